from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0007_evidence_integrity"),
    ]

    operations = []
