"""The use-case services built from settings: shared by `sipas serve` and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.config import Settings
from bot.heads.service import AlertService
from bot.onestop.intake import IntakeService
from bot.scoring_setup import question_meta
from bot.survey.service import SurveyService
from scheduler.runner import Job, JobRunner, hour_period, month_period, quarter_hour_period
from scheduler.scoring_jobs import daily_job
from scheduler.workdays import WorkCalendar
from storage.alerts import AlertStore
from storage.cases import CaseReader, service_secret
from storage.intake import IntakeStore
from storage.jobs import JobClaims
from storage.surveys import SurveyStore


@dataclass
class Services:
    engine: AsyncEngine
    clock: Clock
    intake: IntakeService
    cases: CaseReader
    surveys: SurveyService
    alerts: AlertService

    async def close(self) -> None:
        await self.intake.close()


async def build_services(settings: Settings, engine: AsyncEngine) -> Services:
    """Wire the services of one process around one engine."""
    link_key = (settings.secret_key or await service_secret(engine, "link_key")).encode()
    clock = Clock(settings.tz, clock_file=settings.clock_file or None)
    intake = IntakeService(
        store=IntakeStore(engine), link_key=link_key, public_url=settings.public_url
    )
    surveys = SurveyService(
        store=SurveyStore(engine),
        clock=clock,
        link_key=link_key,
        survey_statuses=(9, 10) if settings.survey_status == 9 else (10,),
        reminder_after=timedelta(hours=settings.reminder_hours),
        expiry=timedelta(days=settings.survey_expiry_days),
        quiet_window=settings.quiet_window,
    )
    alerts = AlertService(
        store=AlertStore(engine),
        surveys=surveys.store,
        forms=surveys.forms,
        clock=clock,
        calendar=WorkCalendar(
            days_off=settings.calendar_days[0], make_up_days=settings.calendar_days[1]
        ),
        inspector_ids=settings.inspector_telegram_ids,
        rule=settings.rule,
    )
    surveys.on_completed = alerts.on_survey_completed
    surveys.on_invite = alerts.redeem
    surveys.on_note = alerts.take_note
    return Services(engine, clock, intake, CaseReader(engine), surveys, alerts)


def job_runner(services: Services, settings: Settings) -> JobRunner:
    """The scheduled jobs: daily scoring, the morning digest, late cases, escalation."""
    engine, alerts, clock = services.engine, services.alerts, services.clock

    async def score_yesterday(moment: datetime) -> str:
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
        return f"{await alerts.send_digests()} digests queued"

    async def monthly(_moment: datetime) -> str:
        return f"{await alerts.send_monthly_reports()} monthly reports queued"

    async def escalate(_moment: datetime) -> str:
        return f"{await alerts.escalate_overdue()} alerts escalated"

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
        ],
        claims=JobClaims(engine),
        tz=settings.tz,
        local_now=clock.local_now,
        utcnow=clock.utcnow,
    )
