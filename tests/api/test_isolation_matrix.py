"""Organisation isolation: every API route, for every role, refuses what its organisation may not see.

Another organisation's case is a 404 on every route, reads and writes alike, exactly as a
reference that does not exist: the answer must not even confirm that the case is there.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from claims.models import CaseEvent, Evidence, Message
from claims.services import evidence_add
from members.models import Role
from tests.factories import DISPUTE_PAYLOAD, MemberFactory, ProviderFactory, UserFactory, respond_payload

from .conftest import case_url

pytestmark = pytest.mark.django_db

ROLES = [
    Role.MEMBER_ADMIN,
    Role.MEMBER_LEGAL,
    Role.PROVIDER_ADMIN,
    Role.PROVIDER_AGENT,
    Role.ASSOCIATION_ADMIN,
    Role.ASSOCIATION_ANALYST,
]
READ_ROUTES = [
    "",
    "messages/",
    "evidence/",
    "evidence/{file}/",
    "evidence/{file}/download/",
    "events/",
    "clocks/",
    "links/",
    "bundle/",
]
TRANSITIONS = [
    "submit",
    "acknowledge",
    "request-info",
    "provide-info",
    "respond",
    "accept",
    "dispute",
    "withdraw",
    "escalate",
    "close",
]


def transition_payload(segment, case):
    return {
        "acknowledge": {"note": "Seen."},
        "request-info": {"question": "Which scene?"},
        "provide-info": {"answer": "0:42."},
        "respond": respond_payload(case),
        "accept": {},
        "dispute": dict(DISPUTE_PAYLOAD),
        "withdraw": {"reason": "Settled."},
        "escalate": {"reason": "No answer."},
        "close": {"outcome": "upheld", "note": "Upheld."},
    }.get(segment, {})


def attach_file(case, actor, content=b"Notes on the output.\n"):
    return evidence_add(case=case, actor=actor, upload=SimpleUploadedFile("notes.txt", content))


def requests_for(case, evidence):
    """Yield (method, path, kwargs) for every route of one case."""
    for route in READ_ROUTES:
        yield "get", case_url(case, route.format(file=evidence.pk)), {}
    yield "post", case_url(case, "messages/"), {"data": {"body": "Hello"}, "format": "json"}
    upload = {"file": SimpleUploadedFile("more.txt", b"More notes.\n")}
    yield "post", case_url(case, "evidence/"), {"data": upload, "format": "multipart"}
    for segment in TRANSITIONS:
        payload = transition_payload(segment, case)
        yield "post", case_url(case, f"{segment}/"), {"data": payload, "format": "json"}


@pytest.fixture
def world(file_case, legal, agent, provider, member):
    """Two members, two providers, one association; cases with files between each pair that matters."""
    other_member = MemberFactory()
    other_provider = ProviderFactory()
    other_legal = UserFactory(role=Role.MEMBER_LEGAL, organisation=other_member)
    cases = {
        "ours": file_case(),  # our member against our provider
        "our_draft": file_case(submit=False),
        "other_member_same_provider": file_case(actor=other_legal),
        "our_member_other_provider": file_case(respondent=other_provider),
    }
    files = {name: attach_file(case, case.filed_by, content=name.encode()) for name, case in cases.items()}
    return {"cases": cases, "files": files, "member": member, "provider": provider}


# What each role's organisation must not see: another organisation's case, and drafts of others.
HIDDEN = {
    Role.MEMBER_ADMIN: ["other_member_same_provider"],
    Role.MEMBER_LEGAL: ["other_member_same_provider"],
    Role.PROVIDER_ADMIN: ["our_member_other_provider", "our_draft"],
    Role.PROVIDER_AGENT: ["our_member_other_provider", "our_draft"],
    Role.ASSOCIATION_ADMIN: ["our_draft"],
    Role.ASSOCIATION_ANALYST: ["our_draft"],
}


def user_of(role, world, association):
    organisation = {"member": world["member"], "provider": world["provider"]}.get(
        role.split("_")[0], association
    )
    return UserFactory(role=role, organisation=organisation)


def counts(case):
    return (
        CaseEvent.objects.filter(case=case).count(),
        Message.objects.filter(case=case).count(),
        Evidence.objects.filter(case=case).count(),
        case.state,
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_404_for_a_case_the_role_may_not_see(api_client_for, world, association, role):
    client = api_client_for(user_of(role, world, association))
    leaks = []
    for name in HIDDEN[role]:
        case, evidence = world["cases"][name], world["files"][name]
        before = counts(case)
        for method, path, kwargs in requests_for(case, evidence):
            response = getattr(client, method)(path, **kwargs)
            if response.status_code != 404 or response.json()["error"]["code"] != "not_found":
                leaks.append((name, method.upper(), path, response.status_code))
        case.refresh_from_db()
        assert counts(case) == before, f"a refused request changed {name}"

    assert leaks == []


@pytest.mark.parametrize("role", ROLES)
def test_the_list_and_search_never_show_a_hidden_case(api_client_for, world, association, role):
    client = api_client_for(user_of(role, world, association))

    for name in HIDDEN[role]:
        reference = world["cases"][name].reference
        assert reference not in [c["reference"] for c in client.get("/api/v1/cases/").json()["results"]]
        assert client.get("/api/v1/cases/", {"q": reference}).json()["results"] == []


@pytest.mark.parametrize("role", ROLES)
def test_a_file_of_a_hidden_case_is_404_even_through_a_visible_case(api_client_for, world, association, role):
    client = api_client_for(user_of(role, world, association))
    visible = world["cases"]["ours"]

    for name in HIDDEN[role]:
        hidden_file = world["files"][name]
        for route in ("evidence/{file}/", "evidence/{file}/download/"):
            response = client.get(case_url(visible, route.format(file=hidden_file.pk)))
            assert response.status_code == 404, (name, route)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_of_a_visible_case_reaches_the_rules(api_client_for, world, association, role):
    """Reads succeed; writes get the services' answer (done, refused or invalid), never a 404."""
    client = api_client_for(user_of(role, world, association))
    case, evidence = world["cases"]["ours"], world["files"]["ours"]
    answers = []

    for method, path, kwargs in requests_for(case, evidence):
        response = getattr(client, method)(path, **kwargs)
        answers.append((method.upper(), path, response.status_code))

    reads = [status for method, _path, status in answers if method == "GET"]
    writes = [status for method, _path, status in answers if method == "POST"]
    assert set(reads) == {200}, answers
    assert set(writes) <= {200, 201, 400, 403, 409}, answers
    assert any(status in (200, 201) for status in writes), answers  # every role may do something


def test_a_downloaded_file_is_the_callers_own_cases_file(api_client_for, world, agent):
    client = api_client_for(agent)
    case, evidence = world["cases"]["ours"], world["files"]["ours"]

    response = client.get(case_url(case, f"evidence/{evidence.pk}/download/"))

    assert b"".join(response.streaming_content) == b"ours"


# --- Monthly reports (claims/reports): API, page and PDF ---------------------------------------


def report_routes(provider, month):
    """Yield (client kind, path) for every route of one provider's report."""
    yield "api", f"/api/v1/reports/{provider.slug}/{month}/"
    yield "web", f"/reports/{provider.slug}/{month}/"
    yield "web", f"/reports/{provider.slug}/{month}/report.pdf"


@pytest.fixture
def report_world(world, file_case):
    """Besides ``world``: a provider that only another member filed with."""
    from django.utils import timezone

    from claims.dashboards.rollup import rollups_refresh
    from claims.reports.months import Month

    unrelated = ProviderFactory()
    stranger = UserFactory(role=Role.MEMBER_LEGAL, organisation=MemberFactory())
    file_case(actor=stranger, respondent=unrelated)
    rollups_refresh()  # reports exist where the dashboards' roll-up has figures
    other_provider = world["cases"]["our_member_other_provider"].respondent
    return {
        "providers": {"ours": world["provider"], "other": other_provider, "unrelated": unrelated},
        "month": str(Month.of(timezone.now())),
    }


# The providers whose report each role's organisation may not read.
REPORTS_HIDDEN = {
    Role.MEMBER_ADMIN: ["unrelated"],
    Role.MEMBER_LEGAL: ["unrelated"],
    Role.PROVIDER_ADMIN: ["other", "unrelated"],
    Role.PROVIDER_AGENT: ["other", "unrelated"],
    Role.ASSOCIATION_ADMIN: [],
    Role.ASSOCIATION_ANALYST: [],
}


@pytest.mark.parametrize("role", ROLES)
def test_every_report_route_answers_404_for_a_provider_the_role_may_not_report_on(
    api_client_for, client, world, report_world, association, role
):
    user = user_of(role, world, association)
    api = api_client_for(user)
    client.force_login(user)
    answers = {}
    for name, provider in report_world["providers"].items():
        for kind, path in report_routes(provider, report_world["month"]):
            response = (api if kind == "api" else client).get(path)
            answers[(name, path)] = response.status_code
        listed = {item["provider"]["slug"] for item in api.get("/api/v1/reports/").json()}
        assert (provider.slug in listed) == (name not in REPORTS_HIDDEN[role]), (name, listed)

    assert {key: code for key, code in answers.items() if key[0] in REPORTS_HIDDEN[role]} == {
        key: 404 for key in answers if key[0] in REPORTS_HIDDEN[role]
    }
    assert {code for key, code in answers.items() if key[0] not in REPORTS_HIDDEN[role]} == {200}


# --- The association's verdict on a challenged response (claims/sincerity/) ---------------------


@pytest.fixture
def challenged_world(world):
    """Every submitted case of the world answered by its provider and challenged by its claimant."""
    from claims.services import case_transition

    responses = {}
    for name, case in world["cases"].items():
        if case.state == "draft":
            continue
        agent = UserFactory(role=Role.PROVIDER_AGENT, organisation=case.respondent)
        case_transition(case=case, action="respond", actor=agent, payload=respond_payload(case))
        case_transition(case=case, action="dispute", actor=case.filed_by, payload=dict(DISPUTE_PAYLOAD))
        responses[name] = case.responses.get()
    # Through the draft's address, try the visible case's response: it is not the draft's.
    responses["our_draft"] = responses["ours"]
    return {**world, "responses": responses}


def adjudicate(client, case, response):
    path = case_url(case, f"responses/{response.pk}/adjudicate/")
    return client.post(path, {"verdict": "insincere", "note": "A form letter."}, format="json")


@pytest.mark.parametrize("role", ROLES)
def test_the_adjudication_route_answers_404_for_a_case_the_role_may_not_see(
    api_client_for, challenged_world, association, role
):
    client = api_client_for(user_of(role, challenged_world, association))

    for name in HIDDEN[role]:
        case, response = challenged_world["cases"][name], challenged_world["responses"][name]
        before = counts(case)
        answer = adjudicate(client, case, response)
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found"), name
        response.refresh_from_db()
        assert response.sincerity == "challenged"
        assert counts(case) == before


@pytest.mark.parametrize("role", ROLES)
def test_the_adjudication_route_of_a_visible_case_reaches_the_rules(
    api_client_for, challenged_world, association, role
):
    client = api_client_for(user_of(role, challenged_world, association))
    case, response = challenged_world["cases"]["ours"], challenged_world["responses"]["ours"]

    answer = adjudicate(client, case, response)

    assert answer.status_code == (200 if role.startswith("association") else 403), answer.json()


# --- The registry (works, grants, the check): members/registry/api ---------------------------


def registry_requests(work, grant, provider):
    """Yield (method, path, kwargs) for every registry route that names a work or a grant."""
    yield "get", f"/api/v1/works/{work.pk}/", {}
    yield "get", f"/api/v1/grants/{grant.pk}/", {}
    yield "post", f"/api/v1/grants/{grant.pk}/revoke/", {"data": {"reason": "Ended."}, "format": "json"}
    check = {"provider": provider.slug, "work": work.pk, "use": "training"}
    yield "get", "/api/v1/grants/check/", {"data": check}


@pytest.mark.parametrize("role", ROLES)
def test_every_registry_route_answers_404_for_another_organisations_work_or_grant(
    api_client_for, association, role
):
    """A member sees its own works and grants, a provider the grants made to it; the association all."""
    from members.registry.models import Grant
    from members.registry.services import grant_issue
    from tests.factories import WorkFactory

    owner_member, grantee = MemberFactory(), ProviderFactory()
    owner_legal = UserFactory(role=Role.MEMBER_LEGAL, organisation=owner_member)
    work = WorkFactory(owner=owner_member)
    grant = grant_issue(actor=owner_legal, provider=grantee, use="training", work=work)
    # The caller's organisation is neither the owner nor the grantee (the association sees all).
    organisation = {"member": MemberFactory(), "provider": ProviderFactory()}.get(
        role.split("_")[0], association
    )
    client = api_client_for(UserFactory(role=role, organisation=organisation))
    answers = []

    for method, path, kwargs in registry_requests(work, grant, grantee):
        response = getattr(client, method)(path, **kwargs)
        answers.append((method.upper(), path, response.status_code))

    statuses = {status for _method, _path, status in answers}
    if role.startswith("association"):
        assert statuses <= {200, 403}, answers  # reads everything, writes nothing
    else:
        assert statuses == {404}, answers
    assert Grant.objects.count() == 1
    listed = {
        "works": [w["id"] for w in client.get("/api/v1/works/").json()["results"]],
        "grants": [g["id"] for g in client.get("/api/v1/grants/").json()["results"]],
    }
    if not role.startswith("association"):
        assert listed == {"works": [], "grants": []}
