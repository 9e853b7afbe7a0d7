"""Seed the membership tiers with the numbers of the product guide; staff edit them later."""

from django.db import migrations

TIERS = [
    # code, name, rank, element limit, free multi-view uses a day
    ("non_member", "Non-member", 0, 30, 0),
    ("standard", "Standard", 10, 50, 3),
    ("pro", "Pro", 20, 150, 3),
    ("premier", "Premier", 30, 150, 3),
    ("ultra", "Ultra", 40, 500, 3),
]


def seed(apps, schema_editor):
    MembershipTier = apps.get_model("accounts", "MembershipTier")
    for code, name, rank, element_limit, free_multiview in TIERS:
        MembershipTier.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "rank": rank,
                "element_limit": element_limit,
                "daily_free_multiview": free_multiview,
                "daily_credit_grant": 0,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
