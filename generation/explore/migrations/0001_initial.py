# Explore's models moved here from `generation` in state only: the tables `generation` made
# (generation.0004 and later) keep their names (`db_table`), columns, indexes and constraints,
# so this migration runs no SQL and no row moves. `generation.0014` removes them from
# `generation`'s state after this one adds them here.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ["explorework", "exploreworkfile", "explorerecreation", "explorereport", "exploremoderationevent"]


def content_types_follow(apps, schema_editor, old="generation", new="explore"):
    """Give the moved models' content types the new app label, so the permissions granted on
    them (and the admin log) stay with them. A new database has none yet: nothing to do."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def content_types_go_back(apps, schema_editor):
    content_types_follow(apps, schema_editor, old="explore", new="generation")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('generation', '0013_janitor_runs'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ExploreWork',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=80)),
                        ('caption', models.CharField(blank=True, max_length=500)),
                        ('model', models.CharField(choices=[('VIDEO_3_0', 'Video 3.0'), ('VIDEO_3_0_OMNI', 'Video 3.0 Omni'), ('VIDEO_O1', 'Video O1'), ('IMAGE_3_0_OMNI', 'Image 3.0 Omni'), ('IMAGE_O1', 'Image O1')], max_length=32)),
                        ('output_kind', models.CharField(choices=[('image', 'Image'), ('video', 'Video')], max_length=8)),
                        ('prompt', models.TextField(help_text='The prompt as written: mentions are names.')),
                        ('recipe', models.JSONField(help_text='What a recreation is made from, frozen at share time.')),
                        ('status', models.CharField(choices=[('pending', 'Waiting for approval'), ('approved', 'Approved'), ('hidden', 'Hidden by moderation')], db_index=True, max_length=16)),
                        ('hidden_reason', models.CharField(blank=True, help_text='Why staff hid it; shown to the author.', max_length=300)),
                        ('recreate_count', models.PositiveIntegerField(default=0)),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('unshared_at', models.DateTimeField(blank=True, null=True)),
                        ('author', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='explore_works', to=settings.AUTH_USER_MODEL)),
                        ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='explore_works', to='generation.generationjob')),
                        ('output', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='explore_works', to='generation.generationoutput')),
                    ],
                    options={
                        'db_table': 'generation_explorework',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [
                            models.Index(fields=['status', '-created_at'], name='generation_explore_feed'),
                            models.Index(fields=['status', '-recreate_count', '-created_at'], name='generation_explore_popular'),
                        ],
                        'constraints': [
                            models.UniqueConstraint(condition=models.Q(('unshared_at__isnull', True)), fields=('output',), name='generation_explore_one_share_per_output'),
                            models.CheckConstraint(condition=models.Q(models.Q(('status', 'hidden'), _negated=True), models.Q(('hidden_reason', ''), _negated=True), _connector='OR'), name='generation_explore_hidden_has_reason'),
                            models.CheckConstraint(condition=models.Q(('title', ''), _negated=True), name='generation_explore_title_not_empty'),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name='ExploreWorkFile',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('file', models.CharField(db_index=True, max_length=200)),
                        ('work', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='files', to='explore.explorework')),
                    ],
                    options={
                        'db_table': 'generation_exploreworkfile',
                        'constraints': [
                            models.UniqueConstraint(fields=('work', 'file'), name='generation_explore_file_once'),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name='ExploreRecreation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('job', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='explore_recreation', to='generation.generationjob')),
                        ('work', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='recreations', to='explore.explorework')),
                    ],
                    options={
                        'db_table': 'generation_explorerecreation',
                    },
                ),
                migrations.CreateModel(
                    name='ExploreReport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('reason', models.CharField(max_length=500)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('reporter', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('work', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reports', to='explore.explorework')),
                    ],
                    options={
                        'db_table': 'generation_explorereport',
                        'ordering': ['-created_at', '-id'],
                        'constraints': [
                            models.UniqueConstraint(fields=('work', 'reporter'), name='generation_explore_one_report_per_user'),
                            models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='generation_explore_report_has_reason'),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name='ExploreModerationEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('subject', models.CharField(help_text="The work's title, kept.", max_length=120)),
                        ('action', models.CharField(choices=[('approved', 'Approved'), ('hidden', 'Hidden'), ('restored', 'Restored')], max_length=16)),
                        ('reason', models.CharField(blank=True, max_length=300)),
                        ('reports_resolved', models.PositiveIntegerField(default=0)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('staff', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('work', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='moderation', to='explore.explorework')),
                    ],
                    options={
                        'db_table': 'generation_exploremoderationevent',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, content_types_go_back, elidable=True),
    ]
