"""The use-case services built from settings: shared by `sipas serve` and the CLI."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.links import ChannelLinks
from bot.clock import Clock
from bot.commands.access import AccessControl, Auditor, CommandRateLimit
from bot.commands.admin import AdminCommands
from bot.commands.admin_agencies import AgencyCommands
from bot.commands.admin_settings import RuntimeConfig, SettingsCommands
from bot.commands.dispatch import CommandDispatcher
from bot.commands.head import HeadCommands
from bot.commands.menus import MenuPublisher
from bot.commands.questionnaire_admin import QuestionnaireAdmin
from bot.config import Settings, parse_quiet_hours
from bot.contacts import ContactBook
from bot.heads.invites import RoleInvites
from bot.heads.loop import AlertLoop
from bot.heads.recipients import Recipients
from bot.heads.reports import HeadReports
from bot.heads.service import AlertService
from bot.metrics import ChatCounters
from bot.onestop.intake import IntakeService
from bot.scoring_setup import question_meta
from bot.survey.linking import CaseLinking
from bot.survey.service import FormCache, SurveyService
from scheduler.runner import Job, JobRunner, hour_period, month_period, quarter_hour_period
from scheduler.workdays import WorkCalendar
from storage.alerts import AlertStore
from storage.audit import AuditStore
from storage.case_links import CaseLinkStore
from storage.cases import CaseReader, relink
from storage.chats import ChatStore
from storage.contacts import ContactStore
from storage.dialogs import DialogStore
from storage.errors import StorageError
from storage.intake import IntakeStore
from storage.invites import InviteStore
from storage.jobs import JobClaims
from storage.outbox import OutboxStore
from storage.questionnaires import QuestionnaireStore
from storage.roles import RoleStore
from storage.runtime_settings import RuntimeSettingsStore
from storage.surveys import SurveyStore

log = logging.getLogger(__name__)


@dataclass
class ChatCommands:
    """Admin and head commands by chat: who may do what, routing, menus, runtime settings."""

    dispatcher: CommandDispatcher
    access: AccessControl
    menus: MenuPublisher
    runtime: RuntimeConfig
    roles: RoleStore


@dataclass
class Services:
    engine: AsyncEngine
    clock: Clock
    intake: IntakeService
    cases: CaseReader
    surveys: SurveyService
    linking: CaseLinking
    alerts: AlertService
    commands: ChatCommands
    invites: RoleInvites
    loop: AlertLoop
    reports: HeadReports
    # Applicants' phone numbers, sealed with SIPAS_CONTACT_KEY (the ZNS sender opens them).
    contacts: ContactBook | None = None

    async def close(self) -> None:
        await self.intake.close()


async def build_services(
    settings: Settings,
    engine: AsyncEngine,
    *,
    clock: Clock | None = None,
    wake: Callable[[], None] = lambda: None,
    on_accepted: Callable[[], None] = lambda: None,
    links: ChannelLinks | None = None,
    counters: ChatCounters | None = None,
) -> Services:
    """Wire the services of one process around one engine. `wake` is told whenever messages
    were queued (the outbox dispatchers listen), `on_accepted` whenever a delivery created a
    case event (the survey loop listens); `links` are the channels' deep links (receipts,
    invitations); tests inject their `clock`."""
    links = links if links is not None else ChannelLinks()
    # The keys come from SIPAS_SECRET_KEY alone; `sipas serve` refuses to start without one.
    link_key = settings.key_ring
    clock = clock or Clock(settings.tz, clock_file=settings.clock_file or None)

    async def relink_case(case_code: str, token_hash: str, key_id: str, retired: str) -> None:
        await relink(engine, case_code, token_hash=token_hash, key_id=key_id, retired=retired)

    contacts = ContactBook(settings.contact_ring, ContactStore(engine))
    intake = IntakeService(
        contacts=contacts,
        store=IntakeStore(engine),
        link_key=link_key,
        public_url=settings.public_url,
        links=links,
        zalo_url=settings.zalo_oa_url,
        on_accepted=on_accepted,
        relink=relink_case,
    )
    chats, outbox = ChatStore(engine), OutboxStore(engine)
    questionnaires, survey_store = QuestionnaireStore(engine), SurveyStore(engine)
    forms = FormCache(questionnaires)
    people = _People.build(settings, engine, clock, chats, counters=counters)
    alert_store = AlertStore(engine)
    recipients = Recipients(
        roles=people.roles, agencies=alert_store, inspectors=settings.inspector_people
    )
    alerts = AlertService(
        store=alert_store,
        recipients=recipients,
        forms=forms,
        clock=clock,
        calendar=WorkCalendar(
            days_off=settings.calendar_days[0], make_up_days=settings.calendar_days[1]
        ),
        wake=wake,
    )
    loop = AlertLoop(
        store=alert_store, recipients=recipients, chats=chats, outbox=outbox, clock=clock, wake=wake
    )
    reports = HeadReports(
        store=alert_store,
        roles=people.roles,
        outbox=outbox,
        clock=clock,
        rule=settings.rule,
        wake=wake,
    )
    invites = RoleInvites(store=InviteStore(engine), outbox=outbox, clock=clock, wake=wake)
    surveys = SurveyService(
        chats=chats,
        questionnaires=questionnaires,
        surveys=survey_store,
        outbox=outbox,
        clock=clock,
        survey_statuses=(9, 10) if settings.survey_status == 9 else (10,),
        reminder_after=timedelta(hours=settings.reminder_hours),
        expiry=timedelta(days=settings.survey_expiry_days),
        quiet_window=settings.quiet_window,
        forms=forms,
        wake=wake,
        on_completed=alerts.on_survey_completed,
        on_note=loop.take_note,
    )
    linking = CaseLinking(
        survey=surveys,
        links=CaseLinkStore(engine),
        link_key=link_key,
        on_invite=people.invite_hook(invites),
    )
    commands = await build_commands(
        settings, engine, clock, surveys, alerts, people, links=links, invites=invites
    )
    cases = CaseReader(engine, key_ids=link_key.ids)
    return Services(
        engine,
        clock,
        intake,
        cases,
        surveys,
        linking,
        alerts,
        commands,
        invites,
        loop,
        reports,
        contacts=contacts,
    )


def apply_runtime(surveys: SurveyService, alerts: AlertService, values: dict[str, Any]) -> None:
    """Put the effective runtime settings into the running services."""
    surveys.reminder_after = timedelta(hours=float(values["reminder_hours"]))
    surveys.expiry = timedelta(days=float(values["survey_expiry_days"]))
    surveys.quiet_window = parse_quiet_hours(str(values["quiet_hours"] or ""))
    surveys.survey_statuses = (9, 10) if int(values["survey_status"]) == 9 else (10,)
    alerts.escalate_after_seconds = float(values["escalation_hours"]) * 3600


@dataclass(frozen=True)
class _People:
    """Who may do what: roles, the audit log, access control, the dispatcher and menus."""

    roles: RoleStore
    audit_store: AuditStore
    audit: Auditor
    access: AccessControl
    dispatcher: CommandDispatcher
    menus: MenuPublisher

    @classmethod
    def build(
        cls,
        settings: Settings,
        engine: AsyncEngine,
        clock: Clock,
        chats: ChatStore,
        *,
        counters: ChatCounters | None = None,
    ) -> _People:
        roles = RoleStore(engine)
        audit_store = AuditStore(engine)
        audit = Auditor(audit_store, clock)
        access = AccessControl(
            roles=roles,
            chats=chats,
            clock=clock,
            admins=settings.admin_people,
            inspectors=settings.inspector_people,
        )
        dispatcher = CommandDispatcher(
            modules=[],
            audit=audit,
            dialogs=DialogStore(engine),
            limiter=CommandRateLimit(limit=settings.command_rate_per_minute),
            now=clock.utcnow,
            counters=counters,
        )
        menus = MenuPublisher(dispatcher=dispatcher, access=access, roles=roles)
        return cls(roles, audit_store, audit, access, dispatcher, menus)

    def invite_hook(self, invites: RoleInvites) -> Callable[[int, str], Awaitable[None]]:
        """Redeem an invitation opened from a chat: audit each role gained, refresh menus."""
        roles, access, audit, menus = self.roles, self.access, self.audit, self.menus

        async def on_invite(chat_id: int, payload: str) -> None:
            before = set(await roles.grants_of(chat_id))
            await invites.redeem(chat_id, payload)
            gained = set(await roles.grants_of(chat_id)) - before
            if not gained:
                return
            ref = await roles.chat_ref(chat_id)
            if ref is not None:
                caller = await access.for_chat(
                    chat_id=chat_id,
                    channel=ref[0],
                    external_id=ref[1],
                    language=ref[2],
                    name=ref[3],
                )
                for role, agency in sorted(gained):
                    await audit.record(
                        actor=caller,
                        action="grant",
                        target=f"{role}:{agency}" if agency else role,
                        before=None,
                        after={"role": role, "agency": agency or None, "via": "invite"},
                    )
            await menus.refresh(chat_id)

        return on_invite


async def build_commands(
    settings: Settings,
    engine: AsyncEngine,
    clock: Clock,
    surveys: SurveyService,
    alerts: AlertService,
    people: _People,
    *,
    links: ChannelLinks,
    invites: RoleInvites,
) -> ChatCommands:
    """The command modules behind one dispatcher, with the runtime settings they change."""
    dispatcher, audit = people.dispatcher, people.audit
    runtime = RuntimeConfig(
        settings,
        RuntimeSettingsStore(engine),
        clock,
        apply=lambda values: apply_runtime(surveys, alerts, values),
    )
    try:
        await runtime.load()
    except StorageError as exc:
        log.warning("runtime settings not loaded (database down)", extra={"error": str(exc)})
    dispatcher.add(
        AdminCommands(
            roles=people.roles,
            audit_store=people.audit_store,
            audit=audit,
            invites=invites,
            clock=clock,
            links=links,
            env_role=people.access.env_role,
            on_roles_changed=people.menus.refresh,
        )
    )
    dispatcher.add(
        AgencyCommands(roles=people.roles, audit=audit, zns_templates=settings.zns_templates)
    )
    dispatcher.add(SettingsCommands(config=runtime, audit=audit))
    dispatcher.add(
        QuestionnaireAdmin(
            engine=engine, surveys=surveys, audit=audit, dialogs=dispatcher, clock=clock
        )
    )
    dispatcher.add(
        HeadCommands(
            engine=engine,
            alerts=alerts,
            forms=surveys.forms,
            audit=audit,
            dialogs=dispatcher,
            clock=clock,
            rule=settings.rule,
        )
    )
    return ChatCommands(dispatcher, people.access, people.menus, runtime, people.roles)


def job_runner(services: Services, settings: Settings) -> JobRunner:
    """The scheduled jobs: daily scoring, the morning digest, late cases, escalation."""
    engine, alerts, clock = services.engine, services.alerts, services.clock

    async def score_yesterday(moment: datetime) -> str:
        # Imported when the job runs, not with the bot: scoring loads pandas.
        from scheduler.scoring_jobs import daily_job

        meta = await question_meta(engine)
        message, indices = await daily_job(
            engine, moment.date() - timedelta(days=1), meta, rule=settings.rule
        )
        scored = indices["year_to_date"]
        return f"{message}; year to date: {len(scored)} agencies with answers"

    async def late_scan(_moment: datetime) -> str:
        if not alerts.calendar.is_working_day(clock.local_now().date()):
            return "not a working day"
        return f"{await alerts.scan_late_cases()} agencies alerted"

    async def digest(_moment: datetime) -> str:
        return f"{await services.reports.send_digests()} digests queued"

    async def monthly(_moment: datetime) -> str:
        return f"{await services.reports.send_monthly_reports()} monthly reports queued"

    async def escalate(_moment: datetime) -> str:
        return f"{await alerts.escalate_overdue()} alerts escalated"

    async def purge_contacts(_moment: datetime) -> str:
        retention = timedelta(days=settings.contact_retention_days)
        purged = await ContactStore(engine).purge(clock.utcnow(), retention)
        return f"{purged} phone numbers deleted"

    return JobRunner(
        [
            Job("daily-score", {"hour": 6, "minute": 0}, score_yesterday),
            Job("digest", {"hour": 7, "minute": 30}, digest),
            Job("monthly-report", {"day": 1, "hour": 7, "minute": 0}, monthly, period=month_period),
            Job(
                "late-cases",
                {"day_of_week": "mon-fri", "hour": "8-16", "minute": 0},
                late_scan,
                period=hour_period,
            ),
            Job(
                "escalation",
                {"minute": "*/15"},
                escalate,
                period=quarter_hour_period,
                catch_up=False,
            ),
            Job("purge-contacts", {"hour": 3, "minute": 30}, purge_contacts),
        ],
        claims=JobClaims(engine),
        tz=settings.tz,
        local_now=clock.local_now,
        utcnow=clock.utcnow,
    )
