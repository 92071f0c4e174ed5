"""What the registry publishes: W3C TDMRep rules, IETF aipref usage lines, and each provider's feed.

Permission-first: every location is reserved (``tdm-reservation: 1``, ``train-ai=n``) unless a
training grant is in force. Grants are made to one provider, and the public files have no
notion of "this provider only", so the public files reserve everything and point to the
member's TDM policy (how to obtain consent); a provider that fetches them signed in (session
or API token) with ``?provider=<its slug>`` sees its own grants applied (``0`` / ``train-ai=y``).
The provider feed carries the same data as JSON with the grant ledger rows addressed to it.
"""

import hashlib
import json
from datetime import datetime

from django.db.models import Count, Max, Q
from django.http import Http404
from django.urls import reverse

from members.models import Organisation, OrganisationKind, Work
from members.registry.models import Grant, GrantUse, WorkIdentifier
from members.registry.resolution import grant_decide

CATCH_ALL_LOCATION = "/*"
TDMREP_PROFILE = "http://www.w3.org/ns/tdmrep"
AIPREF_VOCABULARY = "draft-ietf-aipref-vocab-05"
AIPREF_ATTACHMENT = "draft-ietf-aipref-attach"


def registry_member_get(key: str) -> Organisation:
    """Return the active member company named by slug or id, or raise Http404."""
    members = Organisation.objects.filter(kind=OrganisationKind.MEMBER, is_active=True)
    lookup = Q(slug=key)
    if key.isdigit() and len(key) < 19:
        lookup |= Q(pk=int(key))
    member = members.filter(lookup).order_by("pk").first()
    if member is None:
        raise Http404("No such member.")
    return member


def provider_view_allowed(*, user, member: Organisation, provider: Organisation) -> bool:
    """Whether ``user`` may see the member's files with ``provider``'s grants applied.

    The provider itself, the member itself and the association may; nobody else learns
    which provider holds which grant.
    """
    if not user.is_authenticated or user.organisation_id is None:
        return False
    return user.organisation_id in (provider.pk, member.pk) or user.organisation.is_association


def _located_works(member: Organisation) -> list[Work]:
    return list(member.works.exclude(location="").order_by("location", "id"))


def _training_decider(member: Organisation, provider: Organisation | None, at: datetime):
    """Return ``permitted(work_id or None)``: whether the provider may train on it (None: all works)."""
    if provider is None:
        return lambda work_id: False
    rows = list(Grant.objects.filter(grantor=member, grantee=provider, use=GrantUse.TRAINING))
    # No work has id 0, so only the grants for all works can decide this one.
    all_works = grant_decide(
        rows, provider_id=provider.pk, work_id=0, owner_id=member.pk, use=GrantUse.TRAINING, at=at
    ).permitted

    def permitted(work_id):
        if work_id is None:
            return all_works
        return grant_decide(
            rows, provider_id=provider.pk, work_id=work_id, owner_id=member.pk, use=GrantUse.TRAINING, at=at
        ).permitted

    return permitted


def _locations(
    member: Organisation, provider: Organisation | None, at: datetime
) -> list[tuple[str, bool, list]]:
    """Return (location, reserved, works) per distinct work location, then the catch-all.

    A location shared by several works is reserved if any of them is.
    """
    permitted = _training_decider(member, provider, at)
    grouped: dict[str, list[Work]] = {}
    for work in _located_works(member):
        grouped.setdefault(work.location, []).append(work)
    result = [
        (location, not all(permitted(work.pk) for work in works), works)
        for location, works in grouped.items()
    ]
    result.append((CATCH_ALL_LOCATION, not permitted(None), []))
    return result


def tdm_policy_url(member: Organisation, base_url: str) -> str:
    return base_url + reverse("registry:tdm_policy", kwargs={"member": member.slug})


def tdmrep_rules(*, member: Organisation, base_url: str, at: datetime, provider=None) -> list[dict]:
    """Return the member's rules as a TDMRep ``tdmrep.json`` array, most specific locations first.

    A TDM agent applies the first rule whose location matches; the catch-all comes last.
    """
    policy = tdm_policy_url(member, base_url)
    rules = []
    for location, reserved, _works in _locations(member, provider, at):
        rule = {"location": location, "tdm-reservation": 1 if reserved else 0}
        if reserved:
            rule["tdm-policy"] = policy
        rules.append(rule)
    return rules


def tdm_policy(*, member: Organisation, base_url: str) -> dict:
    """Return the member's TDM policy (ODRL, TDMRep profile): mining needs the member's consent."""
    uid = tdm_policy_url(member, base_url)
    member_uri = uid.removesuffix("tdm-policy.json")
    return {
        "@context": ["http://www.w3.org/ns/odrl.jsonld", {"tdm": "http://www.w3.org/ns/tdmrep#"}],
        "@type": "Offer",
        "profile": TDMREP_PROFILE,
        "uid": uid,
        "assigner": {"uid": member_uri, "vcard:fn": member.name_en},
        "permission": [
            {"target": member_uri + "works", "action": "tdm:mine", "duty": [{"action": "obtainConsent"}]}
        ],
    }


def aipref_text(*, member: Organisation, at: datetime, provider=None) -> str:
    """Return the member's usage preferences as robots.txt ``Content-Usage`` lines (aipref).

    The most specific path wins, as for Allow/Disallow; the line without a path is the default.
    """
    lines = [
        f"# AI usage preferences of {member.name_en} ({member.slug}), published by RightsDesk.",
        f"# Vocabulary: {AIPREF_VOCABULARY}; attachment to robots.txt: {AIPREF_ATTACHMENT}.",
        "# Permission first: train-ai=n unless a training grant is in force.",
    ]
    if provider is not None:
        lines.append(f"# As applicable to {provider.name_en} ({provider.slug}) at {at.isoformat()}.")
    lines.append("User-Agent: *")
    for location, reserved, works in _locations(member, provider, at):
        value = "train-ai=n" if reserved else "train-ai=y"
        if location == CATCH_ALL_LOCATION:
            lines.append(f"Content-Usage: {value}")
        else:
            titles = ", ".join(work.title_en or work.title_ja for work in works)
            lines.append(f"# {titles}".replace("\n", " ").replace("\r", " "))
            lines.append(f"Content-Usage: {location} {value}")
    return "\n".join(lines) + "\n"


# --- The provider feed ------------------------------------------------------------------------


def feed_etag(*, provider: Organisation) -> str:
    """Return a strong ETag that changes whenever anything the provider's feed shows changes.

    Ledger rows are only ever added, so the newest id and the count of the provider's rows
    stand for all of them; works change only through services that move ``updated_at``, and a
    removed identifier is a work update too. The members (a few dozen rows) are read whole,
    because the feed shows their slugs and names, which change with no trace elsewhere.
    """
    grants = Grant.objects.filter(grantee=provider).aggregate(last=Max("id"), count=Count("id"))
    # Over all works (no join): a member's activation shows in the members' part below.
    works = Work.objects.aggregate(changed=Max("updated_at"), count=Count("id"), last=Max("id"))
    members = list(
        Organisation.objects.members()
        .order_by("id")
        .values_list("id", "slug", "name_ja", "name_en", "is_active")
    )
    basis = json.dumps([provider.pk, grants, works, members], default=str, sort_keys=True)
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:40] + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak comparison, as RFC 9110 asks for GET)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return etag in tags


def provider_feed(*, provider: Organisation, base_url: str) -> dict:
    """Return every member's reservations and every ledger row addressed to ``provider``.

    Without a grant in force, every work of every member is reserved for both uses; the
    grants (with their validity windows and revocations) say where the provider is permitted,
    so the feed stays the same until the ledger or a work changes (its ETag with it).
    """
    members = list(Organisation.objects.members().filter(is_active=True).order_by("slug"))
    works_by_owner: dict[int, list] = {}
    identifiers: dict[int, list] = {}
    for work_id, scheme, value in (
        WorkIdentifier.objects.filter(owner__in=members)
        .order_by("work_id", "scheme", "value")
        .values_list("work_id", "scheme", "value")
    ):
        identifiers.setdefault(work_id, []).append({"scheme": scheme, "value": value})
    for work in (
        Work.objects.filter(owner__in=members)
        .order_by("id")
        .values("id", "owner_id", "kind", "title_ja", "title_en", "location", "updated_at")
    ):
        work["identifiers"] = identifiers.get(work["id"], [])
        works_by_owner.setdefault(work.pop("owner_id"), []).append(work)
    rows = list(Grant.objects.filter(grantee=provider).select_related("grantor").order_by("id"))
    revoked = {row.revokes_id: row for row in rows if row.revokes_id}
    return {
        "provider": provider.slug,
        "default": "reserved",
        "uses": list(GrantUse.values),
        "members": [
            {
                "slug": member.slug,
                "name_ja": member.name_ja,
                "name_en": member.name_en,
                "tdmrep": base_url + reverse("registry:tdmrep", kwargs={"member": member.slug}),
                "aipref": base_url + reverse("registry:aipref", kwargs={"member": member.slug}),
                "works": works_by_owner.get(member.pk, []),
            }
            for member in members
        ],
        "grants": [
            {
                "id": row.pk,
                "member": row.grantor.slug,
                "use": row.use,
                "work": row.work_id,
                "all_works": row.work_id is None,
                "terms": row.terms,
                "valid_from": row.valid_from,
                "valid_until": row.valid_until,
                "revokes": row.revokes_id,
                "revoked_from": revoked[row.pk].valid_from if row.pk in revoked else None,
                "reason": row.reason,
                "created_at": row.created_at,
            }
            for row in rows
        ],
    }
