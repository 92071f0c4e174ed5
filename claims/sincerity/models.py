"""The index that finds a provider's earlier responses resembling a new one."""

from django.db import models


class ResponseBand(models.Model):
    """One LSH band key of a response's MinHash signature (``claims.sincerity.similarity``).

    Two responses sharing any band key are candidates for a near copy; the (provider, key)
    index finds every candidate with one indexed query, whatever the number of the provider's
    responses. ``case`` is copied from the response so that responses to the same case are
    left out without a join; the index includes it and the response so the lookup reads the
    index alone.
    """

    provider = models.ForeignKey(
        "members.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    case = models.ForeignKey("claims.Case", on_delete=models.CASCADE, related_name="+", db_index=False)
    response = models.ForeignKey("claims.Response", on_delete=models.CASCADE, related_name="bands")
    key = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["provider", "key"], include=["case", "response"], name="response_band_lookup"
            )
        ]

    def __str__(self):
        return f"{self.response_id}:{self.key}"
