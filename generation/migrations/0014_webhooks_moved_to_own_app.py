"""The webhook models now belong to the `webhooks` app (`generation.webhooks`).

State only: their tables stay, under their names, for `webhooks.0001_initial` to own.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0013_janitor_runs'),
        ('webhooks', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='endpoint',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='event',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='owner',
                ),
                migrations.RemoveField(
                    model_name='webhookendpoint',
                    name='owner',
                ),
                migrations.RemoveField(
                    model_name='webhookevent',
                    name='owner',
                ),
                migrations.DeleteModel(
                    name='WebhookAttempt',
                ),
                migrations.DeleteModel(
                    name='WebhookDelivery',
                ),
                migrations.DeleteModel(
                    name='WebhookEndpoint',
                ),
                migrations.DeleteModel(
                    name='WebhookEvent',
                ),
            ],
        ),
    ]
