from django.db import migrations


def forwards(apps, schema_editor):
    from duplicates.migrations._seed import seed

    seed(apps.get_model("waffle", "Flag"), apps.get_model("duplicates", "Calibration"))


def backwards(apps, schema_editor):
    apps.get_model("waffle", "Flag").objects.filter(name="near_duplicates").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("duplicates", "0001_initial"),
        ("waffle", "0004_update_everyone_nullbooleanfield"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
