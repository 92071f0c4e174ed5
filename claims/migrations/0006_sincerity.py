# Sincerity (issue #5): a response's similarity to the provider's earlier responses, the
# claimant's insincerity challenge, the association's verdict, and the LSH band index.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0005_drop_redundant_fk_indexes"),
        ("members", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ResponseBand',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.BigIntegerField()),
            ],
        ),
        migrations.AddField(
            model_name='clock',
            name='judged_insincere',
            field=models.BooleanField(default=False, verbose_name='judged insincere'),
        ),
        migrations.AddField(
            model_name='response',
            name='adjudicated_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='adjudicated'),
        ),
        migrations.AddField(
            model_name='response',
            name='adjudicated_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='adjudicated by'),
        ),
        migrations.AddField(
            model_name='response',
            name='adjudication_note',
            field=models.TextField(blank=True, editable=False, verbose_name='adjudication note'),
        ),
        migrations.AddField(
            model_name='response',
            name='dispute_note',
            field=models.TextField(blank=True, editable=False, verbose_name='dispute explanation'),
        ),
        migrations.AddField(
            model_name='response',
            name='dispute_reasons',
            field=models.JSONField(blank=True, default=list, editable=False, verbose_name='dispute reasons'),
        ),
        migrations.AddField(
            model_name='response',
            name='disputed_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='disputed'),
        ),
        migrations.AddField(
            model_name='response',
            name='met_clock',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='claims.clock'),
        ),
        migrations.AddField(
            model_name='response',
            name='similar_to',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='claims.response', verbose_name='similar to'),
        ),
        migrations.AddField(
            model_name='response',
            name='similarity',
            field=models.FloatField(blank=True, editable=False, null=True, verbose_name='similarity'),
        ),
        migrations.AddField(
            model_name='response',
            name='sincerity',
            field=models.CharField(choices=[('unreviewed', 'Not reviewed'), ('challenged', 'Challenged as insincere'), ('sincere', 'Judged sincere'), ('insincere', 'Judged insincere')], default='unreviewed', editable=False, max_length=12, verbose_name='sincerity'),
        ),
        migrations.AddField(
            model_name='response',
            name='templated',
            field=models.BooleanField(default=False, editable=False, verbose_name='templated'),
        ),
        migrations.AddIndex(
            model_name='response',
            index=models.Index(condition=models.Q(('sincerity', 'challenged')), fields=['disputed_at'], name='response_awaiting_verdict'),
        ),
        migrations.AddConstraint(
            model_name='response',
            constraint=models.CheckConstraint(condition=models.Q(('sincerity__in', ['unreviewed', 'challenged', 'sincere', 'insincere'])), name='response_sincerity_valid'),
        ),
        migrations.AddConstraint(
            model_name='response',
            constraint=models.CheckConstraint(condition=models.Q(('similarity__isnull', True), models.Q(('similarity__gte', 0), ('similarity__lte', 1)), _connector='OR'), name='response_similarity_range'),
        ),
        migrations.AddConstraint(
            model_name='response',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('adjudicated_at__isnull', False), ('adjudicated_by__isnull', False), ('sincerity__in', ('sincere', 'insincere'))), models.Q(models.Q(('sincerity__in', ('sincere', 'insincere')), _negated=True), ('adjudicated_at__isnull', True)), _connector='OR'), name='response_verdict_recorded'),
        ),
        migrations.AddConstraint(
            model_name='response',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('sincerity', 'insincere'), _negated=True), models.Q(('adjudication_note', ''), _negated=True), _connector='OR'), name='response_insincere_has_note'),
        ),
        migrations.AddField(
            model_name='responseband',
            name='case',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='claims.case'),
        ),
        migrations.AddField(
            model_name='responseband',
            name='provider',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='members.organisation'),
        ),
        migrations.AddField(
            model_name='responseband',
            name='response',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='bands', to='claims.response'),
        ),
        migrations.AddIndex(
            model_name='responseband',
            index=models.Index(fields=['provider', 'key'], include=('case', 'response'), name='response_band_lookup'),
        ),
    ]
