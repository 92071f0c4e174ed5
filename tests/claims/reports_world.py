"""A small, hand-countable world for the report tests, built through the real services.

Provider P ("Vidmaker") receives, in October 2026 (Japan time):

=====  ========  =====================  ==================  ==========================
case   member    acknowledged           responded           note
=====  ========  =====================  ==================  ==========================
a1     Alpha     Mon 5 Oct 11:00 (1 h)  Tue 6 Oct 10:00     on time
a2     Alpha     Wed 7 Oct 12:00        Thu 8 Oct 10:00     acknowledgement met late
a3     Alpha     Mon 5 Oct 12:00 (2 h)  —                   escalated Tue 6 Oct 10:00
b1     Beta      Tue 6 Oct 10:30        Tue 6 Oct 14:00     on time
b2     Beta      Tue 6 Oct 11:30        Wed 7 Oct 11:00     on time
=====  ========  =====================  ==================  ==========================

(a1-a3 filed Mon 5 Oct 10:00, b1 Tue 6 Oct 10:00, b2 Tue 6 Oct 11:00.) So for P in October:
5 cases; acknowledgement on time 4 of 5 (a2 breached its 2-business-day target, due Wed 10:00);
response on time 4 of 4 (a3's response clock stopped unbreached at the escalation: undecided);
1 breach; 1 escalation. Alpha alone: 3 cases, 2 of 3, 2 of 2, 1 breach, 1 escalation. Beta
alone: 2 cases, 2 of 2, 2 of 2. P in September: one case of Alpha's, acknowledged on time.
Provider Q ("Imagen Co") receives one case of Alpha's in October (acknowledged).
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from claims.dashboards.rollup import rollups_refresh
from claims.models import Case
from claims.services import case_create, case_transition
from members.models import Organisation, Role, User
from tests.factories import MemberFactory, ProviderFactory, UserFactory, respond_payload

TOKYO = ZoneInfo("Asia/Tokyo")
# When the tests read the reports: after October, so October is a complete month.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=TOKYO)


def jst(*args) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@dataclass
class World:
    alpha: Organisation
    beta: Organisation
    vidmaker: Organisation
    imagen: Organisation
    association: Organisation
    alpha_legal: User
    beta_legal: User
    vidmaker_agent: User
    imagen_agent: User
    analyst: User
    cases: dict[str, Case]

    # Strings no public page or JSON may ever contain.
    def secrets(self) -> list[str]:
        found = []
        for member in (self.alpha, self.beta):
            found += [member.name_en, member.name_ja, member.slug]
        for case in self.cases.values():
            found += [case.reference, case.title, case.description]
        for user in (self.alpha_legal, self.beta_legal):
            found += [user.email, user.full_name]
        return found


def _file(actor, respondent, at, name):
    with time_machine.travel(at, tick=False):
        return case_create(
            actor=actor,
            respondent=respondent,
            kind="claim",
            title=f"Secret title {name} of {actor.organisation.name_en}",
            description=f"Confidential description of case {name}.",
            legal_basis="character_likeness",
            remedies=["remove_output"],
            outputs=[
                {"product": "VidGen", "url": f"https://vidgen.example/{name}", "seen_at": at.isoformat()}
            ],
        )


def _act(case, action, actor, at, payload=None):
    with time_machine.travel(at, tick=False):
        if action == "respond":
            payload = respond_payload(case)
        return case_transition(case=case, action=action, actor=actor, payload=payload or {})


def build_world() -> World:
    alpha = MemberFactory(name_en="Studio Alpha", name_ja="スタジオアルファ", slug="studio-alpha")
    beta = MemberFactory(name_en="Beta Records", name_ja="ベータレコード", slug="beta-records")
    vidmaker = ProviderFactory(name_en="Vidmaker", name_ja="ビッドメーカー", slug="vidmaker")
    imagen = ProviderFactory(name_en="Imagen Co", name_ja="イマジェン", slug="imagen")
    alpha_legal = UserFactory(role=Role.MEMBER_LEGAL, organisation=alpha, full_name="Aiko Alphason")
    beta_legal = UserFactory(role=Role.MEMBER_LEGAL, organisation=beta, full_name="Botan Betamura")
    vidmaker_agent = UserFactory(role=Role.PROVIDER_AGENT, organisation=vidmaker)
    imagen_agent = UserFactory(role=Role.PROVIDER_AGENT, organisation=imagen)
    analyst = UserFactory(role=Role.ASSOCIATION_ANALYST)
    admin = UserFactory(role=Role.ASSOCIATION_ADMIN, organisation=analyst.organisation)

    cases = {}
    cases["s1"] = _file(alpha_legal, vidmaker, jst(2026, 9, 15, 10, 0), "s1")
    _act(cases["s1"], "acknowledge", vidmaker_agent, jst(2026, 9, 15, 11, 0))

    for name in ("a1", "a2", "a3"):
        cases[name] = _file(alpha_legal, vidmaker, jst(2026, 10, 5, 10, 0), name)
    cases["b1"] = _file(beta_legal, vidmaker, jst(2026, 10, 6, 10, 0), "b1")
    cases["b2"] = _file(beta_legal, vidmaker, jst(2026, 10, 6, 11, 0), "b2")
    cases["q1"] = _file(alpha_legal, imagen, jst(2026, 10, 7, 10, 0), "q1")

    _act(cases["a1"], "acknowledge", vidmaker_agent, jst(2026, 10, 5, 11, 0))
    _act(cases["a3"], "acknowledge", vidmaker_agent, jst(2026, 10, 5, 12, 0))
    _act(cases["a1"], "respond", vidmaker_agent, jst(2026, 10, 6, 10, 0))
    _act(cases["a3"], "escalate", admin, jst(2026, 10, 6, 10, 0), {"reason": "No answer in substance."})
    _act(cases["b1"], "acknowledge", vidmaker_agent, jst(2026, 10, 6, 10, 30))
    _act(cases["b2"], "acknowledge", vidmaker_agent, jst(2026, 10, 6, 11, 30))
    _act(cases["b1"], "respond", vidmaker_agent, jst(2026, 10, 6, 14, 0))
    _act(cases["a2"], "acknowledge", vidmaker_agent, jst(2026, 10, 7, 12, 0))
    _act(cases["b2"], "respond", vidmaker_agent, jst(2026, 10, 7, 11, 0))
    _act(cases["q1"], "acknowledge", imagen_agent, jst(2026, 10, 7, 11, 0))
    _act(cases["a2"], "respond", vidmaker_agent, jst(2026, 10, 8, 10, 0))

    rollups_refresh(full=True, now=NOW)
    for name, case in cases.items():
        cases[name] = Case.objects.get(pk=case.pk)
    return World(
        alpha=alpha,
        beta=beta,
        vidmaker=vidmaker,
        imagen=imagen,
        association=analyst.organisation,
        alpha_legal=alpha_legal,
        beta_legal=beta_legal,
        vidmaker_agent=vidmaker_agent,
        imagen_agent=imagen_agent,
        analyst=analyst,
        cases=cases,
    )
