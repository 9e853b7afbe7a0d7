"""Test settings: the real settings with tasks run inline and a fast password hasher.

The database is whatever DATABASE_URL says (SQLite by default, PostgreSQL in CI); SQLite tests
use a file, not memory, so threads in concurrency tests share one database.
"""

import os

os.environ.setdefault("DEBUG", "1")
# A developer's `.env` (from `make run`) must not change what the suite, or any subprocess it
# starts, sees; tests that want one point ELEMENTSITE_ENV_FILE at their own file.
os.environ["ELEMENTSITE_ENV_FILE"] = ""

from elementsite.settings import *  # noqa: F403
from elementsite.settings import DATA_DIR, DATABASES, Q_CLUSTER

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
Q_CLUSTER["sync"] = True
# Per run, like the database, and removed when the run ends (tests/conftest.py).
MEDIA_ROOT = DATA_DIR / f"test-media-{os.getpid()}"
if STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):  # noqa: F405
    STORAGES["default"]["OPTIONS"]["location"] = str(MEDIA_ROOT)  # noqa: F405

# Renders' temporary folders too: the janitor run by a test must see only this run's.
GENERATION_WORK_DIR = str(DATA_DIR / f"test-work-{os.getpid()}")
os.makedirs(GENERATION_WORK_DIR, exist_ok=True)

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Likewise on PostgreSQL: a database per run, created and dropped by the test runner.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One file per run, so parallel runs on one checkout don't share (and destroy) it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}

# The consistency report of a succeeded job samples and describes frames (seconds per job):
# on only in the tests that measure it (tests/generation/test_consistency.py).
GENERATION_CONSISTENCY = False
