"""Fill the database with a demo association, its members, two providers and months of cases.

Every case is written by the real services (``case_create``, ``case_transition``,
``message_post``, ``evidence_add``) while time-machine holds the clock at that step's moment,
so the timelines, hash chains and SLA data look exactly as if the months had really passed.
Running it again reuses the organisations and users and adds more cases.
"""

import io
import logging
import random
import struct
import sys
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from claims.models import Case
from members.models import Organisation, User, Work
from members.registry.demo import registry_seed

from ._demo_content import ASSOCIATION, MEMBERS, PHRASES, PROVIDERS, OrganisationSpec, WorkSpec, work_label

DEMO_PASSWORD = "demo-pass-2026"
DEMO_EMAIL_SUFFIX = ".demo"
# The three logins the README promises, shown first; then the other admins.
HEADLINE_LOGINS = (
    "legal@member.demo",
    "agent@provider.demo",
    "analyst@association.demo",
    "admin@member.demo",
    "admin@provider.demo",
    "admin@association.demo",
)
ASSOCIATION_ADMIN_GROUP = "Association administrators"
# What the association administrator may change in Django admin: accounts, organisations and
# the SLA configuration (policies, closure days). Everything else of the project's apps is
# view-only there: cases change only through the transition service.
ASSOCIATION_ADMIN_PERMISSIONS = {
    ("members", "organisation"): ("add", "change"),
    ("members", "user"): ("add", "change"),
    ("claims", "slapolicy"): ("add", "change"),
    ("claims", "closureday"): ("add", "change", "delete"),
}
PROJECT_APPS = ("members", "claims", "notifications")

TOKYO = ZoneInfo("Asia/Tokyo")
HISTORY_DAYS = 176  # a little under six months, so weekend snapping never crosses the limit
WORKDAY_MINUTES = 10 * 60  # steps happen between 09:00 and 19:00 Tokyo time

ALL_STATES = (
    "draft",
    "submitted",
    "acknowledged",
    "info_requested",
    "responded",
    "disputed",
    "escalated",
    "resolved",
    "withdrawn",
)
STATE_WEIGHTS = {
    "draft": 4,
    "submitted": 8,
    "acknowledged": 9,
    "info_requested": 6,
    "responded": 11,
    "disputed": 6,
    "escalated": 7,
    "resolved": 41,
    "withdrawn": 8,
}
# The ways a case reaches each state: (weight, steps after filing). The first path of each
# state is the plainest; the cases that guarantee every state follow it. "unanswered" and
# "review_lapses" are quiet periods: the SLA sweep then escalates the case on a breach or
# resolves it as accepted by default, exactly as the worker would have done.
PATHS = {
    "draft": [(1, [])],
    "submitted": [(4, []), (1, ["msg_claimant"])],
    "acknowledged": [(3, ["acknowledge"]), (2, ["acknowledge", "msg_claimant", "msg_respondent"])],
    "info_requested": [
        (2, ["request_info"]),
        (3, ["acknowledge", "request_info"]),
        (1, ["acknowledge", "respond", "dispute", "request_info"]),
    ],
    "responded": [
        (4, ["acknowledge", "respond"]),
        (2, ["respond"]),
        (2, ["acknowledge", "request_info", "provide_info", "respond"]),
        (1, ["acknowledge", "msg_claimant", "msg_respondent", "respond"]),
        (1, ["acknowledge", "respond", "dispute", "respond"]),
    ],
    "disputed": [(1, ["acknowledge", "respond", "dispute"])],
    "escalated": [
        (3, ["acknowledge", "respond", "dispute", "escalate"]),
        (2, ["acknowledge", "respond", "dispute", "respond", "dispute"]),  # a second dispute escalates
        (2, ["unanswered"]),
        (1, ["acknowledge", "unanswered"]),
    ],
    "resolved": [
        (8, ["acknowledge", "respond", "accept"]),
        (3, ["respond", "accept"]),
        (2, ["acknowledge", "msg_claimant", "msg_respondent", "respond", "accept"]),
        (3, ["acknowledge", "request_info", "provide_info", "respond", "accept"]),
        (2, ["acknowledge", "respond", "review_lapses"]),
        (2, ["acknowledge", "respond", "dispute", "respond", "accept"]),
        (2, ["acknowledge", "respond", "dispute", "escalate", "close"]),
        (1, ["unanswered", "close"]),
    ],
    "withdrawn": [
        (2, ["withdraw"]),
        (2, ["acknowledge", "withdraw"]),
        (1, ["acknowledge", "respond", "withdraw"]),
    ],
}
QUIET_PERIODS = ("unanswered", "review_lapses")
# Days from the previous step to this one. The ranges keep providers within the default SLA
# targets (acknowledge in 2 business days, respond in 7 days, re-respond in 5 business days),
# so only the "unanswered" paths breach; the warnings at 50% and 80% still come naturally.
GAPS = {
    "acknowledge": (0, 1),
    "request_info": (0, 1),
    "provide_info": (1, 4),
    "respond": (1, 3),
    "accept": (1, 9),
    "dispute": (1, 8),
    "withdraw": (0, 2),
    "escalate": (1, 4),
    "close": (4, 25),
    "message": (0, 1),
    "unanswered": (8, 12),
    "review_lapses": (31, 34),
}
# How many days ago the last step of a case left in an open state happened.
RECENT_DAYS = {
    "draft": (0, 20),
    "submitted": (0, 1),
    "acknowledged": (0, 3),
    "info_requested": (0, 8),
    "responded": (0, 20),
    "disputed": (0, 3),
}
OUTCOME_WEIGHTS = {"removed": 45, "blocked": 25, "no_action": 15, "investigating": 15}
SECOND_RESPONSE_OUTCOME_WEIGHTS = {"removed": 60, "blocked": 35, "no_action": 5, "investigating": 0}
CLOSE_OUTCOMES = ("upheld", "upheld", "partially_upheld", "not_upheld", "settled")
LEGAL_BASIS_BY_KIND = {
    "character": ("character_likeness", "character_likeness", "adaptation", "trademark"),
    "series": ("adaptation", "reproduction"),
    "film": ("reproduction", "adaptation"),
    "game": ("character_likeness", "adaptation", "unfair_competition"),
    "song": ("reproduction", "adaptation"),
    "artwork": ("reproduction", "adaptation"),
}


@dataclass
class MemberCast:
    organisation: Organisation
    admin: User
    legal: User
    works: list[tuple[Work, WorkSpec]]
    spec: OrganisationSpec


@dataclass
class ProviderCast:
    organisation: Organisation
    admin: User
    agent: User
    spec: OrganisationSpec


@dataclass
class Cast:
    association: Organisation
    association_admin: User
    analyst: User
    members: list[MemberCast]
    providers: list[ProviderCast]


@dataclass
class Step:
    action: str  # "file", "message", "wait" (a quiet period) or a transition
    actor: User | None
    payload: dict = field(default_factory=dict)
    gap_key: str = ""  # which GAPS entry spaces it from the step before
    at: datetime | None = None


@dataclass
class CasePlan:
    """Everything about one demo case, decided before anything is written."""

    target_state: str
    safe: bool  # take the plainest path and the shortest gaps, so the target state is certain
    member: MemberCast
    provider: ProviderCast
    filing: dict
    evidence: list[tuple[str, bytes | str, int | None]]  # (file name, content, output index)
    steps: list[Step]
    # While playing: the case, the state our last step left it in, and whether the SLA rules
    # (an escalation on breach) have taken it off the planned path.
    case: Case | None = None
    expected_state: str = ""
    diverted: bool = False


class Command(BaseCommand):
    help = "Create demo organisations, users (password demo-pass-2026) and months of demo cases."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=200, help="How many cases to create (default 200).")
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed; the same seed gives the same data."
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw the progress bar on standard error."
        )
        parser.add_argument("--no-logins", action="store_true", help="Do not print the table of demo logins.")

    def handle(self, *args, cases, seed, no_progress, no_logins, **options):
        try:
            import time_machine
        except ImportError:  # pragma: no cover - only without the dev extras
            raise CommandError("seed_demo needs time-machine: pip install -e '.[dev]'") from None
        from tqdm import tqdm

        if cases < 0:
            raise CommandError("--cases cannot be negative.")
        cast = cast_ensure()
        registry_seed(cast=cast)  # works' locations and ids, a few grants (members/registry/demo.py)
        now = timezone.now()
        plans = []
        for index in range(cases):
            # One random stream per case for its content and one for its timing, so the same
            # seed gives the same cases whatever the date.
            plan = plan_case(cast=cast, rng=random.Random(f"{seed}:{index}"), index=index)
            schedule_case(plan=plan, rng=random.Random(f"{seed}:{index}:time"), now=now)
            plans.append(plan)

        # tqdm reads the clock that time-machine moves: update it only between travels and
        # without its monitor thread, which would wake up inside a travel.
        tqdm.monitor_interval = 0
        progress = tqdm(
            total=sum(len(plan.steps) for plan in plans),
            desc="Demo history",
            unit="step",
            file=sys.stderr,
            disable=no_progress or None,
        )
        try:
            with side_effects_inline():
                history_play(plans=plans, travel=time_machine.travel, progress=progress, until=now)
                # The association's verdicts on a few challenged responses (claims/sincerity/demo.py).
                from claims.sincerity.demo import adjudications_seed

                adjudications_seed(cast=cast)
        finally:
            progress.close()
        notifications_settle(before=now - timedelta(days=3))

        states = Counter(
            Case.objects.filter(pk__in=[plan.case.pk for plan in plans]).values_list("state", flat=True)
        )
        summary = ", ".join(f"{states[state]} {state}" for state in ALL_STATES if states[state])
        self.stdout.write(self.style.SUCCESS(f"Created {len(plans)} demo cases: {summary or 'none'}."))
        if not no_logins:
            self.stdout.write(demo_logins_table())


# --- Organisations and people -------------------------------------------------------------


def cast_ensure() -> Cast:
    """Create the demo organisations, users and works, reusing any that already exist."""
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing costs ~0.3 s a user
    with transaction.atomic():
        association, association_people = _organisation_ensure(ASSOCIATION, password)
        association_admin = association_people["association_admin"]
        association_admin.is_staff = True
        association_admin.save(update_fields=["is_staff"])
        association_admin.groups.add(association_admin_group())
        members = []
        for spec in MEMBERS:
            organisation, people = _organisation_ensure(spec, password)
            works = [(_work_ensure(organisation, work), work) for work in spec.works]
            members.append(
                MemberCast(organisation, people["member_admin"], people["member_legal"], works, spec)
            )
        providers = []
        for spec in PROVIDERS:
            organisation, people = _organisation_ensure(spec, password)
            providers.append(
                ProviderCast(organisation, people["provider_admin"], people["provider_agent"], spec)
            )
    return Cast(association, association_admin, association_people["association_analyst"], members, providers)


def _organisation_ensure(spec: OrganisationSpec, password: str) -> tuple[Organisation, dict[str, User]]:
    organisation, _created = Organisation.objects.get_or_create(
        slug=spec.slug, defaults={"kind": spec.kind, "name_ja": spec.name_ja, "name_en": spec.name_en}
    )
    if organisation.kind != spec.kind:
        raise CommandError(
            f"Organisation {spec.slug!r} exists but is a {organisation.kind}, not a {spec.kind}."
        )
    people = {}
    for person in spec.people:
        user = User.objects.filter(email=person.email).first()
        if user is None:
            user = User(
                email=person.email,
                full_name=person.full_name,
                role=person.role,
                language=person.language,
                organisation=organisation,
                password=password,
            )
            user.full_clean(exclude=["password"])
            user.save()
        elif user.organisation_id != organisation.pk:
            raise CommandError(f"User {person.email} exists in another organisation.")
        people[person.role] = user
    return organisation, people


def _work_ensure(owner: Organisation, spec: WorkSpec) -> Work:
    work, _created = Work.objects.get_or_create(
        owner=owner,
        title_ja=spec.title_ja,
        defaults={"kind": spec.kind, "title_en": spec.title_en, "description": spec.description},
    )
    return work


def association_admin_group() -> Group:
    """Return the group that lets the association administrator use Django admin.

    It may view everything of the project's apps and change what ASSOCIATION_ADMIN_PERMISSIONS
    lists; organisations and users are deactivated, never deleted.
    """
    group, _created = Group.objects.get_or_create(name=ASSOCIATION_ADMIN_GROUP)
    permissions = Permission.objects.filter(content_type__app_label__in=PROJECT_APPS).select_related(
        "content_type"
    )
    group.permissions.set(
        [
            permission
            for permission in permissions
            if permission.codename.split("_", 1)[0]
            in ("view", *ASSOCIATION_ADMIN_PERMISSIONS.get(permission.content_type.natural_key(), ()))
        ]
    )
    return group


def demo_logins() -> list[User]:
    """Return the demo users, the headline logins first."""
    users = list(
        User.objects.filter(email__endswith=DEMO_EMAIL_SUFFIX, is_active=True)
        .select_related("organisation")
        .order_by("organisation__kind", "organisation__name_en", "role")
    )
    rank = {email: index for index, email in enumerate(HEADLINE_LOGINS)}
    return sorted(users, key=lambda user: rank.get(user.email, len(rank)))


def demo_logins_table() -> str:
    """Return the demo logins as a plain-text table for the terminal."""
    users = demo_logins()
    if not users:
        return "No demo users (run: python manage.py seed_demo)."
    rows = [("Email", "Password", "Role", "Organisation")]
    rows += [
        (user.email, DEMO_PASSWORD, user.role, user.organisation.name_en if user.organisation else "-")
        for user in users
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]

    def line(row):
        return "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join(["Demo logins:", line(rows[0]), rule, *(line(row) for row in rows[1:])])


# --- Planning one case ---------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def plan_case(*, cast: Cast, rng: random.Random, index: int) -> CasePlan:
    """Decide everything about one case (who, what, which path, which words) but not when."""
    # The first nine cases take one state each, so that even a small demo shows every state.
    target = ALL_STATES[index] if index < len(ALL_STATES) else _weighted(rng, STATE_WEIGHTS)
    member = rng.choices(cast.members, weights=[m.spec.weight for m in cast.members])[0]
    provider = rng.choices(cast.providers, weights=[p.spec.weight for p in cast.providers])[0]
    language = provider.spec.language
    phrases = PHRASES[language]
    kind = "inquiry" if rng.random() < 0.12 else "claim"
    work, work_spec = rng.choice(member.works)
    product, models = rng.choice(provider.spec.products)
    model = rng.choice(models)
    label = work_label(work_spec, language)
    member_name = member.organisation.name_ja if language == "ja" else member.organisation.name_en
    provider_name = provider.organisation.name_ja if language == "ja" else provider.organisation.name_en
    filer = member.legal if rng.random() < 0.8 else member.admin

    output_count = (
        rng.choice((0, 0, 1)) if kind == "inquiry" else rng.choices((1, 2, 3, 4, 5), (40, 25, 15, 12, 8))[0]
    )
    outputs = [
        _plan_output(rng, provider.spec, product, model, work_spec, language) for _ in range(output_count)
    ]
    if kind == "claim":
        title = rng.choice(phrases.claim_titles[work_spec.kind]).format(label=label)
        if output_count > 1:
            title += phrases.count_suffix.format(n=output_count)
        description = phrases.claim_description.format(
            product=product,
            model=model,
            label=label,
            member=member_name,
            provider=provider_name,
            detail=rng.choice(phrases.details[work_spec.kind]),
        )
        legal_basis = rng.choice(LEGAL_BASIS_BY_KIND[work_spec.kind])
        remedies = ["remove_output"] + sorted(
            rng.sample(["block_prompts", "exclude_training", "compensation"], k=rng.choice((0, 1, 1, 2)))
        )
    else:
        title = rng.choice(phrases.inquiry_titles).format(model=model, product=product)
        description = phrases.inquiry_description.format(
            member=member_name, provider=provider_name, model=model, label=label
        )
        legal_basis = "other"
        remedies = rng.choice((["disclose_training"], ["disclose_training", "exclude_training"]))
    related = [work] + [w for w, _s in member.works if w != work and rng.random() < 0.15]
    filing = {
        "kind": kind,
        "respondent": provider.organisation,
        "title": title[:300],
        "description": description,
        "legal_basis": legal_basis,
        "remedies": remedies,
        "priority": rng.choices(("low", "normal", "high", "urgent"), (15, 55, 22, 8))[0],
        "works": related,
        "outputs": outputs,
        "submit": target != "draft",
    }
    evidence = []
    if outputs and rng.random() < 0.35:
        evidence.append(("screenshot-1.png", _png_screenshot(rng), 0))
    if outputs and rng.random() < 0.2:
        # The capture time is only known once the case is placed in time; {seen} stays for then.
        log = phrases.evidence_log.format(
            title=title,
            person=filer.full_name,
            seen="{seen}",
            locator=outputs[0]["url"] or outputs[0]["share_id"],
        )
        evidence.append(("capture-log.txt", log, None))

    steps = [Step("file", filer)]
    path = rng.choices([p for _w, p in PATHS[target]], weights=[w for w, _p in PATHS[target]])[0]
    if index < len(ALL_STATES):
        path = PATHS[target][0][1]
    responses = 0
    for action in path:
        steps.append(
            _plan_step(
                action,
                rng=rng,
                cast=cast,
                member=member,
                provider=provider,
                filer=filer,
                phrases=phrases,
                output_count=output_count,
                kind=kind,
                responses=responses,
            )
        )
        responses += action == "respond"
    for step in steps[1:]:
        step.gap_key = step.gap_key or step.action
    return CasePlan(target, index < len(ALL_STATES), member, provider, filing, evidence, steps)


def _plan_output(rng, provider: OrganisationSpec, product, model, work: WorkSpec, language) -> dict:
    phrases = PHRASES[language]
    title = work.title_ja if language == "ja" else work.title_en
    token = "".join(rng.choices("abcdefghijkmnpqrstuvwxyz23456789", k=10))
    use_share_id = provider.share_id_pattern and rng.random() < 0.3
    return {
        "product": product,
        "model_name": model,
        "url": "" if use_share_id else provider.url_pattern.format(token=token),
        "share_id": provider.share_id_pattern.format(digits=rng.randint(10_000_000, 99_999_999))
        if use_share_id
        else "",
        "generation_id": f"gen_{rng.getrandbits(48):012x}" if rng.random() < 0.5 else "",
        "seen_hours_before_filing": rng.uniform(2, 24 * 6),
        "prompt": rng.choice(phrases.prompts[work.kind]).format(title=title) if rng.random() < 0.7 else "",
        "notes": rng.choice(phrases.output_notes).format(views=f"{rng.randint(2, 180) * 100:,}"),
    }


def _plan_step(action, *, rng, cast, member, provider, filer, phrases, output_count, kind, responses) -> Step:
    provider_user = provider.agent if rng.random() < 0.85 else provider.admin
    association_user = cast.analyst if rng.random() < 0.6 else cast.association_admin
    if action in QUIET_PERIODS:
        return Step("wait", None, gap_key=action)
    if action == "msg_claimant":
        return Step("message", filer, {"body": rng.choice(phrases.claimant_messages)}, gap_key="message")
    if action == "msg_respondent":
        return Step(
            "message", provider_user, {"body": rng.choice(phrases.respondent_messages)}, gap_key="message"
        )
    if action == "acknowledge":
        return Step(action, provider_user, {"note": rng.choice(phrases.acknowledge_notes)})
    if action == "request_info":
        return Step(action, provider_user, {"question": rng.choice(phrases.questions)})
    if action == "provide_info":
        payload = {"answer": rng.choice(phrases.answers)}
        if output_count and rng.random() < 0.5:
            payload["evidence_png"] = _png_screenshot(rng)
        return Step(action, filer, payload)
    if action == "respond":
        weights = SECOND_RESPONSE_OUTCOME_WEIGHTS if responses else OUTCOME_WEIGHTS
        items = []
        for position in range(1, output_count + 1):
            outcome = _weighted(rng, weights)
            items.append(
                {
                    "position": position,
                    "outcome": outcome,
                    "rationale": rng.choice(phrases.rationales[outcome]),
                    "measures": rng.choice(phrases.measures[outcome]).format(n=rng.randint(3, 40)),
                }
            )
        summaries = phrases.response_summaries if kind == "claim" else phrases.inquiry_summaries
        return Step(
            action,
            provider_user,
            {
                "summary": rng.choice(summaries),
                "contact_name": provider.agent.full_name,
                "contact_email": provider.agent.email,
                "items": items,
            },
        )
    if action == "accept":
        return Step(action, filer, {"note": rng.choice(phrases.accept_notes)})
    if action == "dispute":
        reasons = sorted(rng.sample(sorted(phrases.dispute_notes), k=rng.choice((1, 1, 2))))
        sentence_gap = "" if phrases is PHRASES["ja"] else " "  # Japanese runs sentences together
        note = sentence_gap.join(phrases.dispute_notes[reason] for reason in reasons)
        return Step(action, filer, {"reasons": reasons, "note": note})
    if action == "withdraw":
        return Step(action, filer, {"reason": rng.choice(phrases.withdraw_reasons)})
    if action == "escalate":
        return Step(action, association_user, {"reason": rng.choice(phrases.escalate_reasons)})
    if action == "close":
        outcome = rng.choice(CLOSE_OUTCOMES)
        return Step(action, association_user, {"outcome": outcome, "note": phrases.close_notes[outcome]})
    raise ValueError(f"Unknown demo step {action!r}")


# --- Placing it in time --------------------------------------------------------------------


def _workday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _working_moment(day: date, minute: int) -> datetime:
    return datetime.combine(_workday_on_or_before(day), time(9), tzinfo=TOKYO) + timedelta(minutes=minute)


def _gap_days(rng: random.Random, low_high: tuple[int, int], *, shortest: bool) -> int:
    days = rng.randint(*low_high)  # drawn even when unused, so every case uses the stream alike
    return low_high[0] if shortest else days


def _place(*, gaps: list[int], minutes: list[int], last: datetime) -> list[datetime]:
    """Place the steps backward from the last; ``gaps[i]`` is the days from step i-1 to step i."""
    times = [last]
    for index in range(len(gaps) - 1, 0, -1):
        later = times[0]
        moment = None
        if gaps[index] == 0:
            moment = later - timedelta(minutes=15 + minutes[index - 1] % 240)
            if moment.astimezone(TOKYO).hour < 8:
                moment = None  # too early in the morning: the step happened the working day before
        if moment is None:
            earlier_day = later.astimezone(TOKYO).date() - timedelta(days=max(gaps[index], 1))
            moment = _working_moment(earlier_day, minutes[index - 1])
        times.insert(0, moment)
    return times


def schedule_case(*, plan: CasePlan, rng: random.Random, now: datetime) -> None:
    """Give every step of the plan its moment, all in the past and within the last six months.

    A case left open had its last step recently (its clocks are still running, mostly on
    time); a finished case happened at any time in the last six months.
    """
    gaps = [0] + [_gap_days(rng, GAPS[step.gap_key], shortest=plan.safe) for step in plan.steps[1:]]
    minutes = [rng.randrange(WORKDAY_MINUTES) for _step in plan.steps]
    recent_minutes = 10 + rng.randrange(120)
    today = now.astimezone(TOKYO).date()

    def last_moment(days_ago: int) -> datetime:
        """Return a moment in the working hours of that day, or of the last one already begun."""
        latest = now - timedelta(minutes=recent_minutes)
        day = _workday_on_or_before(today - timedelta(days=days_ago))
        while (moment := _working_moment(day, minutes[-1])) > latest:
            opening = _working_moment(day, 0)
            if opening < latest:  # the day is under way: a moment in the part already passed
                return opening + (latest - opening) * (minutes[-1] / WORKDAY_MINUTES)
            day = _workday_on_or_before(day - timedelta(days=1))
        return moment

    if plan.target_state in RECENT_DAYS:
        days_ago = _gap_days(rng, RECENT_DAYS[plan.target_state], shortest=plan.safe)
    else:
        span = (now - _place(gaps=gaps, minutes=minutes, last=now)[0]).days
        days_ago = rng.randint(0, max(0, HISTORY_DAYS - span - 3))
    times = _place(gaps=gaps, minutes=minutes, last=last_moment(days_ago))
    for step, moment in zip(plan.steps, times, strict=True):
        step.at = moment
    for output in plan.filing["outputs"]:
        output["seen_at"] = times[0] - timedelta(hours=output.pop("seen_hours_before_filing"))


# --- Playing it through the services -------------------------------------------------------


@contextmanager
def side_effects_inline():
    """Run Celery tasks in this process and send no email while the history is written.

    The history lies in the past: each event's notifications are created at its moment
    instead of being queued for a worker that would deliver them months late, nobody is
    emailed about last summer, and no ETA check is queued because ``sla_catch_up`` sweeps
    at every moment a threshold falls due.
    """
    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    task_log = logging.getLogger("celery.app.trace")  # one "succeeded" line per task otherwise
    saved_level = task_log.level
    task_log.setLevel(logging.WARNING)
    try:
        with override_settings(
            SLA_ETA_HORIZON_SECONDS=0, EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"
        ):
            yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved
        task_log.setLevel(saved_level)


def history_play(*, plans: list[CasePlan], travel, progress, until: datetime) -> None:
    """Play every step of every plan in date order, sweeping the SLA clocks in between.

    Date order across all cases makes references ascend with the filing date and lets the
    sweep see the world as it was at each moment.
    """
    timeline = sorted(
        (step.at, plan_index, step_index)
        for plan_index, plan in enumerate(plans)
        for step_index, step in enumerate(plan.steps)
    )
    for moment, plan_index, step_index in timeline:
        sla_catch_up(until=moment, travel=travel)
        plan = plans[plan_index]
        with travel(moment, tick=False):
            step_play(plan=plan, step=plan.steps[step_index])
        progress.update(1)
    sla_catch_up(until=until, travel=travel)


def sla_catch_up(*, until: datetime, travel) -> None:
    """Sweep the SLA clocks at each moment a threshold fell due up to ``until``, as beat would have."""
    from claims.sla.clocks import clocks_sweep
    from claims.sla.models import Clock

    previous = None
    while True:
        due = (
            Clock.objects.filter(next_threshold_at__lte=until)
            .order_by("next_threshold_at")
            .values_list("next_threshold_at", flat=True)
            .first()
        )
        if due is None:
            return
        if previous is not None and due <= previous:
            raise CommandError(f"The SLA sweep made no progress at {due.isoformat()}.")
        previous = due
        with travel(due, tick=False):
            clocks_sweep(now=due)


def step_play(*, plan: CasePlan, step: Step) -> None:
    """Write one step through the services (the clock already stands at its moment)."""
    from claims.services import case_create, case_transition, evidence_add, message_post

    if step.action == "file":
        evidence = [
            (ContentFile(_evidence_bytes(plan, content), name=name), output)
            for name, content, output in plan.evidence
        ]
        plan.case = case_create(actor=step.actor, evidence=evidence, **plan.filing)
        plan.expected_state = plan.case.state
        return
    current = Case.objects.values_list("state", flat=True).get(pk=plan.case.pk)
    if step.action == "wait":
        plan.expected_state = current  # whatever the SLA rules did meanwhile is the plan
        return
    if plan.diverted or current != plan.expected_state:
        plan.diverted = True  # escalated on a breach: the rest of the plan no longer applies
        return
    if step.action == "message":
        message_post(case=plan.case, actor=step.actor, body=step.payload["body"])
        return
    payload = dict(step.payload)
    if "evidence_png" in payload:
        upload = ContentFile(payload.pop("evidence_png"), name="screenshot-more.png")
        evidence_add(case=plan.case, actor=step.actor, upload=upload, description=payload["answer"][:500])
    if step.action == "respond":
        output_ids = dict(plan.case.outputs.values_list("position", "pk"))
        payload["items"] = [
            {key: value for key, value in item.items() if key != "position"}
            | {"output": output_ids[item["position"]]}
            for item in payload["items"]
        ]
    plan.case = case_transition(case=plan.case, action=step.action, actor=step.actor, payload=payload)
    plan.expected_state = plan.case.state


def notifications_settle(*, before: datetime) -> None:
    """Mark demo inbox entries older than ``before`` as read, as their recipients would have.

    The history's notifications were created at their events' moments; without this every
    demo user would open an inbox of months of unread items.
    """
    from notifications.models import Notification

    Notification.objects.filter(
        recipient__email__endswith=DEMO_EMAIL_SUFFIX, created_at__lt=before, read_at__isnull=True
    ).update(read_at=F("created_at") + timedelta(hours=2))


def _evidence_bytes(plan: CasePlan, content: bytes | str) -> bytes:
    if isinstance(content, bytes):
        return content
    seen = timezone.localtime(plan.filing["outputs"][0]["seen_at"]).strftime("%Y-%m-%d %H:%M %Z")
    return content.replace("{seen}", seen).encode()


def _png_screenshot(rng: random.Random, width: int = 96, height: int = 54) -> bytes:
    """Return a small PNG of coloured blocks, different for every call, standing in for a frame."""
    background = bytes(rng.randrange(40, 90) for _ in range(3))
    pixels = [bytearray(background * width) for _ in range(height)]
    for _block in range(rng.randint(3, 7)):
        colour = bytes(rng.randrange(256) for _ in range(3))
        x0, y0 = rng.randrange(width - 8), rng.randrange(height - 8)
        x1, y1 = rng.randint(x0 + 4, width), rng.randint(y0 + 4, height)
        for y in range(y0, y1):
            pixels[y][x0 * 3 : x1 * 3] = colour * (x1 - x0)
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    buffer = io.BytesIO()
    buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)))
    buffer.write(chunk(b"IEND", b""))
    return buffer.getvalue()
