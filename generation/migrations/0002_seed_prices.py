"""Default prices; staff change them in admin."""

from django.db import migrations

# model, mode, credits per job, credits per second of video
PRICES = [
    ("VIDEO_3_0", "std", 10, 2),
    ("VIDEO_3_0", "pro", 20, 4),
    ("VIDEO_3_0_OMNI", "std", 12, 2),
    ("VIDEO_3_0_OMNI", "pro", 24, 4),
    ("VIDEO_O1", "std", 10, 2),
    ("VIDEO_O1", "pro", 20, 4),
    ("IMAGE_3_0_OMNI", "-", 4, 0),
    ("IMAGE_O1", "-", 3, 0),
]


def seed(apps, schema_editor):
    PriceRule = apps.get_model("generation", "PriceRule")
    for model, mode, base, per_second in PRICES:
        PriceRule.objects.get_or_create(
            model=model,
            mode=mode,
            defaults={"base_credits": base, "per_second_credits": per_second},
        )


class Migration(migrations.Migration):
    dependencies = [("generation", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
