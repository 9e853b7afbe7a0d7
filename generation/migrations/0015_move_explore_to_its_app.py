# Explore's models now belong to the `explore` app (generation/explore/); this removes them
# from `generation`'s state only. Their tables stay as they are, under the same names
# (`db_table`), now owned by `explore.0001`: no SQL runs and no row moves.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0014_webhooks_moved_to_own_app'),
        ('explore', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                # Those that point at ExploreWork first, then the work itself.
                migrations.DeleteModel(name='ExploreModerationEvent'),
                migrations.DeleteModel(name='ExploreRecreation'),
                migrations.DeleteModel(name='ExploreReport'),
                migrations.DeleteModel(name='ExploreWorkFile'),
                migrations.DeleteModel(name='ExploreWork'),
            ],
        ),
    ]
