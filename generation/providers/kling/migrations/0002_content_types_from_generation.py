"""The content types of the Kling models follow them from `generation` to `kling`.

`0001` moved the models in Django's state only; without this, the permissions staff were
given on them and the admin's history would keep pointing at `generation.*` rows that no
model answers to any more, and new `kling.*` rows would start empty. As for the webhook and
Explore moves, a content type already made for `kling` is left as it is.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

MODELS = ("providervoice", "providerelement", "provideralert")


def _relabel(apps: StateApps, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not content_type.objects.filter(app_label=new, model=model).exists():
            content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_to_kling(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _relabel(apps, "generation", "kling")


def content_types_to_generation(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _relabel(apps, "kling", "generation")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("kling", "0001_move_kling_sync_from_generation"),
    ]

    operations = [
        migrations.RunPython(content_types_to_kling, content_types_to_generation),
    ]
