"""Demo registry data for ``seed_demo``: locations and ids on the demo works, and a few grants.

Everything goes through the registry's services, as a member's staff would do it. It runs once
per member: a member that already has grants is left alone, so re-seeding adds nothing twice.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.text import slugify

from members.registry.models import Grant, GrantUse
from members.registry.services import grant_issue, grant_revoke, work_update


def registry_seed(*, cast) -> int:
    """Give each demo member's works a location and an internal id, and record a few grants.

    Returns the number of ledger rows written. The mix shows every case of the rule: a grant for
    one work, a grant for all works with an end date, an expired grant and a revoked one.
    """
    now = timezone.now()
    written = 0
    providers = [provider.organisation for provider in cast.providers]
    if not providers:
        return 0
    for index, member in enumerate(cast.members):
        actor = member.legal
        if Grant.objects.filter(grantor=member.organisation).exists():
            continue
        works = [work for work, _spec in member.works]
        for number, work in enumerate(works, start=1):
            if not work.location:
                path = slugify(work.title_en) or f"work-{work.pk}"
                work_update(
                    actor=actor,
                    work=work,
                    kind=work.kind,
                    title_ja=work.title_ja,
                    title_en=work.title_en,
                    description=work.description,
                    location=f"/works/{path}/*",
                    identifiers=[("internal", f"{member.organisation.slug.upper()}-{number:04d}")],
                )
        first, second = providers[index % len(providers)], providers[(index + 1) % len(providers)]
        if works:
            grant_issue(
                actor=actor,
                provider=first,
                use=GrantUse.TRAINING,
                work=works[0],
                terms="Training for the provider's in-house model only; no redistribution of the data set.",
                valid_from=now - timedelta(days=120),
            )
            written += 1
        grant_issue(
            actor=actor,
            provider=second,
            use=GrantUse.GENERATION,
            terms="Fan-art style generation allowed; no commercial use of outputs.",
            valid_from=now - timedelta(days=60),
            valid_until=now + timedelta(days=300),
        )
        grant_issue(
            actor=actor,
            provider=first,
            use=GrantUse.GENERATION,
            terms="Campaign licence, ended.",
            valid_from=now - timedelta(days=170),
            valid_until=now - timedelta(days=100),
        )
        written += 2
        if len(works) > 1:
            revoked = grant_issue(
                actor=actor,
                provider=second,
                use=GrantUse.TRAINING,
                work=works[1],
                valid_from=now - timedelta(days=90),
            )
            grant_revoke(actor=actor, grant=revoked, reason="The provider trained a public model on it.")
            written += 2
    return written
