from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0006_sincerity"),
    ]

    operations = []
