"""The management commands: schedules, the daily reset by hand, API tokens, demo data and
`serve`, which is run for real as a subprocess against a throwaway SQLite database."""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_q.models import Schedule

from accounts import services
from accounts.management.commands.seed_demo import (
    DEMO_CREDITS,
    DEMO_ELEMENTS,
    DEMO_PASSWORD,
    DEMO_PRESETS,
    DEMO_USERNAME,
    STAFF_PASSWORD,
    STAFF_USERNAME,
)
from accounts.models import ApiToken, CreditLedgerEntry, LedgerKind, User
from accounts.selectors import credit_balance, service_day, user_entitlements
from accounts.tasks import DAILY_RESET_CRON, DAILY_RESET_FUNC, DAILY_RESET_SCHEDULE_NAME
from elements.models import Element, ImageRole, ReferenceImage, Voice, VoiceSource
from tests.conftest import media_files
from tests.factories import MembershipFactory, UserFactory, tier
from tests.live_serve import (
    MARKER,
    STOP_TIMEOUT,
    Served,
    fetch,
    free_port,
    graphql,
    marked_processes,
    needs_proc,
    port_open,
    prepared,
    served_env,
    wait_for,
)

BASE_DIR = Path(settings.BASE_DIR)


def run(*args: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- ensure_schedules ---------------------------------------------------------------------


@pytest.mark.django_db
def test_sweep_and_janitor_intervals_follow_the_settings(settings):
    settings.GENERATION_SWEEP_INTERVAL_MINUTES = 2
    settings.JANITOR_INTERVAL_MINUTES = 30
    run("ensure_schedules")
    assert Schedule.objects.get(name="generation.sweep_stale_jobs").cron == "*/2 * * * *"
    assert Schedule.objects.get(name="generation.janitor").cron == "*/30 * * * *"


@pytest.mark.django_db
def test_ensure_schedules_twice_leaves_one_midnight_schedule():
    # when
    run("ensure_schedules")
    run("ensure_schedules")

    # then
    schedule = Schedule.objects.get(name=DAILY_RESET_SCHEDULE_NAME)
    assert sorted(Schedule.objects.values_list("name", flat=True)) == sorted(
        [
            DAILY_RESET_SCHEDULE_NAME,
            "generation.sweep_stale_jobs",
            "generation.janitor",
            "generation.sweep_webhook_deliveries",
            "elements.sweep_stale_video_elements",
            "elements.sweep_element_exports",
        ]
    )
    sweep = Schedule.objects.get(name="generation.sweep_stale_jobs")
    assert (sweep.func, sweep.cron) == ("generation.tasks.sweep_stale_jobs", "* * * * *")
    janitor = Schedule.objects.get(name="generation.janitor")
    assert (janitor.func, janitor.cron) == ("generation.tasks.run_janitor", "*/15 * * * *")
    webhooks = Schedule.objects.get(name="generation.sweep_webhook_deliveries")
    assert (webhooks.func, webhooks.cron) == (
        "generation.webhooks.tasks.sweep_webhook_deliveries",
        "* * * * *",
    )
    assert schedule.func == DAILY_RESET_FUNC == "accounts.tasks.daily_reset_task"
    assert schedule.schedule_type == Schedule.CRON
    assert schedule.cron == DAILY_RESET_CRON == "0 0 * * *"
    assert schedule.repeats == -1
    local_next = timezone.localtime(schedule.next_run)  # settings.TIME_ZONE
    assert (local_next.hour, local_next.minute, local_next.second) == (0, 0, 0)
    assert local_next.date() == service_day() + datetime.timedelta(days=1)


@pytest.mark.django_db
def test_ensure_schedules_repairs_an_edited_schedule_and_drops_twins():
    # given: staff changed the cron in admin, and a twin was added by hand
    Schedule.objects.create(
        name=DAILY_RESET_SCHEDULE_NAME,
        func="other.func",
        schedule_type=Schedule.CRON,
        cron="5 * * * *",
    )
    Schedule.objects.create(name=DAILY_RESET_SCHEDULE_NAME, func=DAILY_RESET_FUNC)

    # when
    run("ensure_schedules")

    # then
    schedule = Schedule.objects.get(name=DAILY_RESET_SCHEDULE_NAME)
    assert (schedule.func, schedule.cron) == (DAILY_RESET_FUNC, DAILY_RESET_CRON)
    assert timezone.localtime(schedule.next_run).time() == datetime.time(0, 0)


@pytest.mark.django_db
def test_daily_reset_task_returns_a_json_summary():
    from accounts.tasks import daily_reset_task

    summary = daily_reset_task()

    assert json.loads(json.dumps(summary)) == summary
    assert summary["days"] == [service_day().isoformat()]
    assert summary["grants"] == 0


# --- daily_reset ----------------------------------------------------------------------------


@pytest.fixture
def granting_standard(db: None) -> Any:
    standard = tier("standard")
    standard.daily_credit_grant = 25
    standard.save()
    return standard


@pytest.mark.django_db
def test_daily_reset_command_prints_the_summary_and_grants_once(user, granting_standard):
    # given
    MembershipFactory(user=user, tier=granting_standard)
    today = service_day().isoformat()

    # when
    first_out, first_err = run("daily_reset")
    second_out, _ = run("daily_reset")

    # then
    assert f"Days reset: {today}" in first_out
    assert "Credit grants: 1" in first_out
    assert "Free-use counters pruned: 0" in first_out
    assert "[" + "#" * 30 + "] 1/1" in first_err  # the progress bar, finished
    assert "Credit grants: 0" in second_out
    assert credit_balance(user) == 25
    grants = CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.GRANT)
    assert grants.count() == 1


@pytest.mark.django_db
def test_daily_reset_command_runs_a_given_past_day(granting_standard):
    yesterday = service_day() - datetime.timedelta(days=1)
    five_days_ago = timezone.now() - datetime.timedelta(days=5)
    MembershipFactory(
        user=UserFactory(date_joined=five_days_ago),
        tier=granting_standard,
        started_at=five_days_ago,
    )

    out, _ = run("daily_reset", "--day", yesterday.isoformat())

    assert f"Days reset: {yesterday.isoformat()}" in out
    assert "Credit grants: 1" in out


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["2026-13-40", "tomorrow", "9999-12-31"])
def test_daily_reset_command_refuses_a_bad_or_future_day(day):
    with pytest.raises(CommandError):
        run("daily_reset", "--day", day)


# --- createapitoken -------------------------------------------------------------------------


@pytest.mark.django_db
def test_createapitoken_prints_a_token_that_authenticates(user):
    # when
    out, err = run("createapitoken", user.username.upper())

    # then: the secret alone is stdout's last line
    secret = out.strip().splitlines()[-1]
    assert services.api_token_authenticate(raw=secret) == user
    token = ApiToken.objects.get(user=user)
    assert token.name.startswith("cli-")
    assert token.prefix in err


@pytest.mark.django_db
def test_createapitoken_names_and_default_names_never_clash(user):
    run("createapitoken", user.username, "--name", "deploy bot")
    run("createapitoken", user.username)
    run("createapitoken", user.username)  # same second, same default name: gets a suffix

    names = set(ApiToken.objects.filter(user=user).values_list("name", flat=True))
    assert len(names) == 3
    assert "deploy bot" in names
    with pytest.raises(CommandError, match="already have an active token"):
        run("createapitoken", user.username, "--name", "Deploy Bot")


@pytest.mark.django_db
def test_createapitoken_fails_for_an_unknown_user():
    with pytest.raises(CommandError, match="No user named"):
        run("createapitoken", "nobody-here")
    assert not ApiToken.objects.exists()


# --- seed_demo ------------------------------------------------------------------------------


@pytest.fixture
def debug_on(settings: Any) -> None:
    settings.DEBUG = True


@pytest.mark.django_db
def test_seed_demo_if_empty_does_nothing_when_a_user_exists(debug_on, user):
    out, _ = run("seed_demo", "--if-empty")

    assert "no demo data" in out
    assert list(User.objects.all()) == [user]


@pytest.mark.django_db
def test_seed_demo_creates_both_accounts_once(debug_on):
    # when
    run("seed_demo", "--if-empty")
    run("seed_demo")

    # then
    assert User.objects.count() == 2
    demo = User.objects.get(username=DEMO_USERNAME)
    assert demo.check_password(DEMO_PASSWORD)
    assert not demo.is_staff
    entitlements = user_entitlements(demo)
    assert entitlements.tier.code == "standard"
    assert entitlements.membership_expires_at is not None
    assert entitlements.membership_expires_at > timezone.now() + datetime.timedelta(days=29)
    assert credit_balance(demo) == DEMO_CREDITS == 500
    entry = CreditLedgerEntry.objects.get(user=demo)
    assert (entry.kind, entry.amount) == (LedgerKind.GRANT, 500)
    assert entry.reason

    staff = User.objects.get(username=STAFF_USERNAME)
    assert staff.check_password(STAFF_PASSWORD)
    assert staff.is_staff and staff.is_superuser


@pytest.mark.django_db
def test_seed_demo_creates_presets_and_the_demo_library_once(debug_on):
    # when
    out, _ = run("seed_demo", "--if-empty")
    files = media_files()
    run("seed_demo")

    # then: three presets of the shared Voice Library, from audio that passed validation
    presets = Voice.objects.filter(owner__isnull=True)
    assert sorted(presets.values_list("name", flat=True)) == sorted(p.name for p in DEMO_PRESETS)
    for preset in presets:
        assert preset.source == VoiceSource.PRESET
        assert 6000 <= preset.duration_ms <= 10000
        assert preset.language and preset.style_tags
        assert preset.quality["warnings"] == []
    assert Voice.objects.count() == 3

    # and the demo user's elements, 2–3 images each, the character speaking with a preset
    demo = User.objects.get(username=DEMO_USERNAME)
    elements = {e.name: e for e in Element.objects.filter(owner=demo).select_related("voice")}
    assert {name: e.type for name, e in elements.items()} == {
        "Little Scholar": "character",
        "Butterfly Perfume": "prop",
        "Tokyo Street": "scene",
    }
    assert elements["Little Scholar"].voice is not None
    assert elements["Little Scholar"].voice.name == "Bright Child"
    assert elements["Little Scholar"].voice.is_preset
    assert elements["Butterfly Perfume"].voice is None
    for spec in DEMO_ELEMENTS:
        images = list(ReferenceImage.objects.filter(element=elements[spec.name]))
        assert len(images) == len(spec.views)
        assert 2 <= len(images) <= 3
        assert [i.role for i in images].count(ImageRole.MAIN) == 1
        assert all(min(i.width, i.height) >= 640 for i in images)
        assert len({i.sha256 for i in images}) == len(images)  # distinct drawings
    assert "Added preset voices" in out
    assert "Little Scholar" in out

    # the second run added nothing, not even a file
    assert Element.objects.count() == 3
    assert media_files() == files


@pytest.mark.django_db
def test_seed_demo_leaves_an_existing_demo_account_alone(debug_on):
    UserFactory(username=DEMO_USERNAME)
    demo = User.objects.get(username=DEMO_USERNAME)

    run("seed_demo")

    assert credit_balance(demo) == 0
    assert User.objects.filter(username=STAFF_USERNAME).exists()
    # The library is the user's own; the shared presets come anyway.
    assert not Element.objects.filter(owner=demo).exists()
    assert Voice.objects.filter(owner__isnull=True).count() == len(DEMO_PRESETS)


@pytest.mark.django_db
def test_seed_demo_adds_back_a_missing_preset_only(debug_on):
    run("seed_demo")
    Voice.objects.filter(name=DEMO_PRESETS[0].name).delete()
    kept = set(Voice.objects.values_list("pk", flat=True))

    out, _ = run("seed_demo")

    assert kept < set(Voice.objects.values_list("pk", flat=True))
    assert Voice.objects.filter(owner__isnull=True).count() == len(DEMO_PRESETS)
    assert f"Added preset voices: {DEMO_PRESETS[0].name}." in out
    assert Element.objects.count() == len(DEMO_ELEMENTS)


@pytest.mark.django_db
def test_seed_demo_does_nothing_with_debug_off(settings):
    settings.DEBUG = False

    run("seed_demo")

    assert not User.objects.exists()
    assert not Voice.objects.exists()
    assert not Element.objects.exists()


# --- serve ----------------------------------------------------------------------------------
# Run for real (tests/live_serve.py) against a throwaway SQLite database.


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("serve")
    served = prepared(data, served_env(data, f"sqlite:///{data / 'x.sqlite3'}"))
    yield served
    assert not marked_processes(served.env[MARKER]), "a process outlived the serve tests"


@needs_proc
def test_serve_runs_granian_and_both_clusters_and_ctrl_c_stops_them(served):
    # given
    port = free_port()
    serve = served.start(port)
    try:
        served.wait_until_ready(serve, port)
        processes = marked_processes(served.marker)
        web = [cmd for cmd in processes.values() if "granian" in cmd]
        assert len(web) >= 3, processes  # granian's main process and its 2 workers
        assert "--interface wsgi" in web[0] and "elementsite.wsgi:application" in web[0]
        assert not any("runserver" in cmd for cmd in processes.values())
        assert sum("qcluster" in cmd for cmd in processes.values()) >= 6  # 2 clusters + forks
        banner = served.output()
        assert f"  Studio      http://127.0.0.1:{port}/\n" in banner
        assert f"http://127.0.0.1:{port}/graphql" in banner
        assert f"http://127.0.0.1:{port}/admin/" in banner
        assert f"{DEMO_USERNAME} / {DEMO_PASSWORD}" in banner
        assert f"{STAFF_USERNAME} / {STAFF_PASSWORD}" in banner
        assert re.search(r"web server \(granian, \d+ processes x \d+ threads\)", banner)

        # a media URL from GraphQL, fetched in ranges as a video player would
        answer = graphql(
            port, served.token, "{ elements(first: 1) { edges { node { images { url } } } } }"
        )
        url = answer["data"]["elements"]["edges"][0]["node"]["images"][0]["url"]
        assert url.startswith(f"http://127.0.0.1:{port}/media-files/")
        status, headers, whole = fetch(url, served.token, {})
        assert status == 200 and whole[:2] == b"\xff\xd8"  # the JPEG
        assert headers["accept-ranges"] == "bytes"
        assert headers["content-disposition"].startswith('inline; filename="')
        size = len(whole)
        for header, first, last in [
            ("bytes=0-99", 0, 99),
            (f"bytes={size // 2}-{size // 2 + 9}", size // 2, size // 2 + 9),
            ("bytes=-16", size - 16, size - 1),
        ]:
            status, headers, part = fetch(url, served.token, {"Range": header})
            assert status == 206, (header, status)
            assert part == whole[first : last + 1]
            assert headers["content-range"] == f"bytes {first}-{last}/{size}"
        status, headers, part = fetch(url, served.token, {"Range": f"bytes={size}-"})
        assert (status, headers["content-range"], part) == (416, f"bytes */{size}", b"")

        # the admin's static files, served with DEBUG on and no collectstatic
        status, _, css = fetch(f"http://127.0.0.1:{port}/static/admin/css/base.css", "", {})
        assert status == 200 and b"body" in css

        # when: Ctrl-C
        serve.send_signal(signal.SIGINT)

        # then
        assert serve.wait(timeout=STOP_TIMEOUT) == 0, served.output()
        wait_for(lambda: not marked_processes(served.marker), 10, "every child to exit")
        assert not port_open(port)
        assert "Stopped." in served.output()
    finally:
        served.cleanup(serve)


@needs_proc
def test_serve_reload_runs_runserver_with_its_autoreloader(served):
    # given
    port = free_port()
    serve = served.start(port, "--reload")
    try:
        served.wait_until_ready(serve, port)
        processes = marked_processes(served.marker)
        runservers = [cmd for cmd in processes.values() if "runserver" in cmd]
        # the autoreloader's watcher and the server it restarts on a change
        assert len(runservers) == 2 and not any("--noreload" in cmd for cmd in runservers)
        assert not any("granian" in cmd for cmd in processes.values())
        assert "runserver, reloading on code changes" in served.output()

        serve.send_signal(signal.SIGINT)

        assert serve.wait(timeout=STOP_TIMEOUT) == 0, served.output()
        wait_for(lambda: not marked_processes(served.marker), 10, "every child to exit")
        assert not port_open(port)
    finally:
        served.cleanup(serve)


@needs_proc
def test_serve_stops_everything_and_fails_when_a_child_dies(served):
    # given
    port = free_port()
    serve = served.start(port)
    try:
        served.wait_until_ready(serve, port)
        leader = next(
            pid
            for pid, cmd in marked_processes(served.marker).items()
            if cmd.rstrip().endswith("manage.py qcluster") and _parent(pid) == serve.pid
        )

        # when: the cluster dies without a chance to stop its own workers
        os.kill(leader, signal.SIGKILL)

        # then: the web server is stopped, the cluster's orphans are swept, serve fails
        assert serve.wait(timeout=STOP_TIMEOUT) != 0
        wait_for(lambda: not marked_processes(served.marker), 10, "every child to exit")
        assert not port_open(port)
        assert "task cluster exited" in served.output()
    finally:
        served.cleanup(serve)


@pytest.mark.parametrize(
    "flags",
    [["--web-workers", "0"], ["--web-threads", "0"], ["--webhook-workers", "-1"], ["--port", "0"]],
)
def test_serve_refuses_bad_counts_before_starting_anything(flags):
    with pytest.raises(CommandError, match="must be"):
        call_command("serve", *flags)


def test_serve_refuses_to_start_granian_without_collected_static_files(settings, tmp_path):
    # given: DEBUG off, static files served from an empty STATIC_ROOT through a manifest
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    # when / then: a clear refusal instead of an admin whose every page fails
    with pytest.raises(CommandError, match="collectstatic"):
        call_command("serve", "--port", str(free_port()))
    assert list(tmp_path.iterdir()) == []


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
