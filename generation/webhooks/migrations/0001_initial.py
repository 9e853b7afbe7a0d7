"""The webhook models move here from `generation` without moving any data.

The tables stay where `generation.0005_webhooks` made them (`generation_webhook*`, named by
`db_table`): this migration only tells Django's state that `webhooks` owns them, and
`generation.0014_webhooks_moved_to_own_app` that `generation` no longer does. No SQL runs
against the tables. The content types of the four models are renamed to this app, so the
permissions staff were given on them and the admin's history keep pointing at them.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

MODELS = ("webhookendpoint", "webhookevent", "webhookdelivery", "webhookattempt")


def _relabel(apps: StateApps, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not content_type.objects.filter(app_label=new, model=model).exists():
            content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_to_webhooks(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _relabel(apps, "generation", "webhooks")


def content_types_to_generation(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _relabel(apps, "webhooks", "generation")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        # The tables exist from here on (made by generation.0005 and altered up to here).
        ("generation", "0013_janitor_runs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='WebhookEndpoint',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.CharField(help_text='Where events are POSTed.', max_length=2000)),
                        ('description', models.CharField(blank=True, max_length=200)),
                        ('events', models.JSONField(blank=True, default=list, help_text='Event types sent here; empty means every type.')),
                        ('secret', models.CharField(editable=False, max_length=80)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_endpoints', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'generation_webhookendpoint',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookEvent',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('type', models.CharField(choices=[('generation.queued', 'Job queued'), ('generation.started', 'Job started'), ('generation.succeeded', 'Job succeeded'), ('generation.failed', 'Job failed'), ('generation.canceled', 'Job canceled'), ('generation.stalled', 'Job stalled (its worker went silent)'), ('element.ready', 'Element processed'), ('element.failed', 'Element processing failed')], max_length=40)),
                        ('body', models.TextField(help_text='The JSON body, exactly as POSTed.')),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_events', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'generation_webhookevent',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('event_type', models.CharField(choices=[('generation.queued', 'Job queued'), ('generation.started', 'Job started'), ('generation.succeeded', 'Job succeeded'), ('generation.failed', 'Job failed'), ('generation.canceled', 'Job canceled'), ('generation.stalled', 'Job stalled (its worker went silent)'), ('element.ready', 'Element processed'), ('element.failed', 'Element processing failed')], max_length=40)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='pending', max_length=16)),
                        ('attempt_count', models.PositiveIntegerField(default=0)),
                        ('attempts_before_resend', models.PositiveIntegerField(default=0, help_text='Attempts made before staff last re-sent it (back-off restarts).')),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('give_up_at', models.DateTimeField(help_text='No attempt starts after this.')),
                        ('locked_until', models.DateTimeField(blank=True, null=True)),
                        ('last_status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('last_error', models.CharField(blank=True, max_length=300)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_deliveries', to=settings.AUTH_USER_MODEL)),
                        ('endpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.webhookendpoint')),
                        ('event', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.webhookevent')),
                    ],
                    options={
                        'verbose_name_plural': 'webhook deliveries',
                        'db_table': 'generation_webhookdelivery',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookAttempt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField()),
                        ('started_at', models.DateTimeField()),
                        ('duration_ms', models.PositiveIntegerField()),
                        ('status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('error', models.CharField(blank=True, max_length=300)),
                        ('response_excerpt', models.CharField(blank=True, max_length=500)),
                        ('ip_address', models.CharField(blank=True, help_text='The address connected to.', max_length=45)),
                        ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='webhooks.webhookdelivery')),
                    ],
                    options={
                        'db_table': 'generation_webhookattempt',
                        'ordering': ['delivery', 'number'],
                        'constraints': [models.UniqueConstraint(fields=('delivery', 'number'), name='generation_webhook_attempt_number')],
                    },
                ),
                migrations.AddIndex(
                    model_name='webhookendpoint',
                    index=models.Index(fields=['owner', '-created_at'], name='generation__owner_i_7f5b97_idx'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(fields=['owner', '-created_at'], name='generation__owner_i_7be9af_idx'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(fields=['status', 'next_attempt_at'], name='generation__status_687d73_idx'),
                ),
                migrations.AddConstraint(
                    model_name='webhookdelivery',
                    constraint=models.UniqueConstraint(fields=('event', 'endpoint'), name='generation_webhook_one_delivery_per_endpoint'),
                ),
                migrations.AddConstraint(
                    model_name='webhookdelivery',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'pending'), _negated=True), ('next_attempt_at__isnull', False), _connector='OR'), name='generation_webhook_pending_has_next_attempt'),
                ),
            ],
        ),
        migrations.RunPython(content_types_to_webhooks, content_types_to_generation),
    ]
