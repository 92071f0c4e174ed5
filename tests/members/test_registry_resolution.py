"""Grant resolution: "may provider P use work W for use U at time T?", default deny.

The rule is a pure function (``grant_decide``), checked here over generated ledgers with
hypothesis, and through the database by ``grant_check``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from members.registry.models import GrantUse
from members.registry.resolution import NOT_PERMITTED, grant_decide
from members.registry.selectors import grant_check
from members.registry.services import grant_issue, grant_revoke
from tests.factories import MemberFactory, ProviderFactory, WorkFactory

BASE = datetime(2026, 1, 1, tzinfo=UTC)
PROVIDERS = (1, 2)
OWNERS = {100: 10, 101: 10, 200: 11}  # work id -> owner id
USES = tuple(GrantUse.values)


@dataclass(frozen=True)
class Row:
    """A ledger row as ``grant_decide`` reads it (the same attributes as ``Grant``)."""

    pk: int
    grantor_id: int
    grantee_id: int
    use: str
    work_id: int | None
    valid_from: datetime
    valid_until: datetime | None = None
    revokes_id: int | None = None


def hours(n):
    return BASE + timedelta(hours=n)


@st.composite
def ledgers(draw):
    """Draw a ledger of grants over two providers, two owners and three works, some revoked."""
    rows = []
    for pk in range(1, draw(st.integers(0, 8)) + 1):
        owner = draw(st.sampled_from((10, 11)))
        work = draw(st.sampled_from([None, *[w for w, o in OWNERS.items() if o == owner]]))
        start = draw(st.integers(0, 100))
        length = draw(st.one_of(st.none(), st.integers(1, 100)))
        rows.append(
            Row(
                pk=pk,
                grantor_id=owner,
                grantee_id=draw(st.sampled_from(PROVIDERS)),
                use=draw(st.sampled_from(USES)),
                work_id=work,
                valid_from=hours(start),
                valid_until=None if length is None else hours(start + length),
            )
        )
    revoked = draw(st.lists(st.sampled_from(rows), unique_by=lambda r: r.pk)) if rows else []
    for offset, grant in enumerate(revoked, start=1):
        effective = grant.valid_from + timedelta(hours=draw(st.integers(0, 120)))
        rows.append(
            Row(
                100 + offset,
                grant.grantor_id,
                grant.grantee_id,
                grant.use,
                grant.work_id,
                effective,
                None,
                grant.pk,
            )
        )
    return rows


questions = st.tuples(
    st.sampled_from(PROVIDERS), st.sampled_from(list(OWNERS)), st.sampled_from(USES), st.integers(-5, 230)
)


def decide(rows, question):
    provider, work, use, hour = question
    return grant_decide(
        rows, provider_id=provider, work_id=work, owner_id=OWNERS[work], use=use, at=hours(hour)
    )


@given(questions)
def test_an_empty_ledger_permits_nothing(question):
    decision = decide([], question)

    assert (decision.permitted, decision.grant, decision.reason) == (False, None, NOT_PERMITTED)


@settings(max_examples=300)
@given(ledgers(), questions)
def test_a_permission_always_names_a_grant_that_covers_the_question(rows, question):
    provider, work, use, hour = question
    decision = decide(rows, question)

    if decision.permitted:
        grant = decision.grant
        assert grant.revokes_id is None
        assert (grant.grantee_id, grant.grantor_id, grant.use) == (provider, OWNERS[work], use)
        assert grant.work_id in (None, work)
        assert grant.valid_from <= hours(hour)
        assert grant.valid_until is None or hours(hour) < grant.valid_until
    else:
        assert decision.grant is None and decision.reason == NOT_PERMITTED


@settings(max_examples=300)
@given(ledgers(), questions)
def test_a_revoked_grant_never_decides_from_its_revocation_on(rows, question):
    decision = decide(rows, question)
    revoked_from = {row.revokes_id: row.valid_from for row in rows if row.revokes_id}

    if decision.permitted and decision.grant.pk in revoked_from:
        assert hours(question[3]) < revoked_from[decision.grant.pk]


@settings(max_examples=300)
@given(ledgers(), questions, st.integers(0, 100))
def test_a_revocation_at_r_leaves_nothing_permitted_after_r_when_it_ends_the_only_grant(rows, question, r):
    provider, work, use, hour = question
    only = Row(1, OWNERS[work], provider, use, None, hours(0))
    revocation = Row(2, OWNERS[work], provider, use, None, hours(r), None, 1)

    decision = decide([only, revocation], question)

    assert decision.permitted == (hour >= 0 and hour < r)


@settings(max_examples=200)
@given(ledgers(), questions, st.sampled_from((10, 11)))
def test_an_all_works_grant_permits_every_work_of_its_member_and_no_other(rows, question, owner):
    provider, work, use, hour = question
    grant = Row(999, owner, provider, use, None, hours(-10))

    decision = decide([grant], question)

    assert decision.permitted == (OWNERS[work] == owner)


@settings(max_examples=300)
@given(ledgers(), questions, st.integers(0, 100), st.one_of(st.none(), st.integers(1, 100)))
def test_adding_a_grant_never_takes_a_permission_away(rows, question, start, length):
    provider, work, use, _hour = question
    extra = Row(
        500,
        OWNERS[work],
        provider,
        use,
        work,
        hours(start),
        None if length is None else hours(start + length),
    )

    before = decide(rows, question)
    after = decide([*rows, extra], question)

    assert after.permitted or not before.permitted


@settings(max_examples=300)
@given(ledgers(), questions)
def test_grants_to_another_provider_never_change_the_answer(rows, question):
    provider = question[0]
    own_rows = [row for row in rows if row.grantee_id == provider]

    assert decide(rows, question).permitted == decide(own_rows, question).permitted


def test_a_grant_for_the_work_is_cited_before_an_all_works_grant():
    all_works = Row(1, 10, 1, "training", None, hours(0))
    specific = Row(2, 10, 1, "training", 100, hours(-50))

    decision = decide([all_works, specific], (1, 100, "training", 5))

    assert decision.grant is specific


# --- Through the database ---------------------------------------------------------------------


@pytest.fixture
def ledger(legal, member, provider):
    work = WorkFactory(owner=member)
    other_work = WorkFactory(owner=member)
    return {"work": work, "other_work": other_work}


@pytest.mark.django_db
def test_no_grant_is_not_permitted(ledger, provider):
    decision = grant_check(provider=provider, work=ledger["work"], use="training", at=hours(1))

    assert decision.permitted is False
    assert decision.reason == "no grant: not permitted"


@pytest.mark.django_db
def test_a_specific_grant_and_an_all_works_grant_both_permit_and_the_specific_one_decides(
    legal, ledger, provider
):
    all_works = grant_issue(actor=legal, provider=provider, use="training", valid_from=hours(0))
    specific = grant_issue(
        actor=legal, provider=provider, use="training", work=ledger["work"], valid_from=hours(0)
    )

    on_work = grant_check(provider=provider, work=ledger["work"], use="training", at=hours(1))
    on_other = grant_check(provider=provider, work=ledger["other_work"], use="training", at=hours(1))
    for_generation = grant_check(provider=provider, work=ledger["work"], use="generation", at=hours(1))

    assert (on_work.permitted, on_work.grant) == (True, specific)
    assert (on_other.permitted, on_other.grant) == (True, all_works)
    assert for_generation.permitted is False


@pytest.mark.django_db
def test_the_validity_window_includes_its_start_and_excludes_its_end(legal, ledger, provider):
    grant_issue(
        actor=legal,
        provider=provider,
        use="generation",
        work=ledger["work"],
        valid_from=hours(10),
        valid_until=hours(20),
    )

    def at(h):
        return grant_check(provider=provider, work=ledger["work"], use="generation", at=h).permitted

    assert [
        at(hours(10) - timedelta(microseconds=1)),
        at(hours(10)),
        at(hours(20) - timedelta(microseconds=1)),
        at(hours(20)),
    ] == [
        False,
        True,
        True,
        False,
    ]


@pytest.mark.django_db
def test_a_revocation_removes_permission_from_its_effective_time_on(legal, ledger, provider, time_machine):
    time_machine.move_to(hours(0))
    grant = grant_issue(
        actor=legal, provider=provider, use="training", work=ledger["work"], valid_from=hours(0)
    )
    grant_revoke(actor=legal, grant=grant, reason="Licence ended.", effective_at=hours(5))

    before = grant_check(provider=provider, work=ledger["work"], use="training", at=hours(4))
    after = grant_check(provider=provider, work=ledger["work"], use="training", at=hours(5))

    assert (before.permitted, before.grant) == (True, grant)
    assert (after.permitted, after.grant) == (False, None)


@pytest.mark.django_db
def test_another_members_all_works_grant_does_not_cover_our_work(ledger, provider):
    from members.models import Role
    from tests.factories import UserFactory

    other = UserFactory(role=Role.MEMBER_LEGAL, organisation=MemberFactory())
    grant_issue(actor=other, provider=provider, use="training")

    assert (
        grant_check(
            provider=provider, work=ledger["work"], use="training", at=hours(1) + timedelta(days=400)
        ).permitted
        is False
    )
    assert (
        grant_check(provider=ProviderFactory(), work=ledger["work"], use="training", at=hours(1)).permitted
        is False
    )
