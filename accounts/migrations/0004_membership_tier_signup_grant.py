"""Each tier's one-time signup grant, and the non-members' default: a self-registered user
starts as a non-member with nothing, so without it a new account can't try generation."""

from django.db import migrations, models

# At the seeded prices a 5 s Video O1 job costs 20 credits (10 + 2/s) and an image 3–4: 60 is
# about three short local videos or a dozen images. Staff change it in the admin.
NON_MEMBER_SIGNUP_GRANT = 60


def seed(apps, schema_editor):
    MembershipTier = apps.get_model("accounts", "MembershipTier")
    # Only a tier still at the default: a value staff set is kept.
    MembershipTier.objects.filter(code="non_member", signup_grant=0).update(
        signup_grant=NON_MEMBER_SIGNUP_GRANT
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_membership_ends_after_start")]

    operations = [
        migrations.AddField(
            model_name="membershiptier",
            name="signup_grant",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Credits given once to a user who registers on this tier (a "
                "self-registered user is a non-member), so a new account can try generation.",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
