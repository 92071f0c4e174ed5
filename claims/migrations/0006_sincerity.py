from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0005_drop_redundant_fk_indexes"),
    ]

    operations = []
