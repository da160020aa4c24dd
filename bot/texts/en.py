"""The English catalog: the same keys as the Vietnamese one (`bot/texts/vi.py`), in English.

A key missing here falls back to Vietnamese; tests/unit/test_texts.py keeps both complete.
"""

from __future__ import annotations

from typing import Final

# How an admin writes the options of a choice question (quoted in several messages).
_OPTIONS_FORMAT: Final = (
    "One option a line: CODE = Vietnamese | English\n"
    "Example:\nA1 = Chờ lâu | Long wait\nA2 = Thiếu hướng dẫn | No guidance"
)

CATALOG: Final[dict[str, str]] = {
    # What a citizen reads in the chat.
    "chat.welcome": (
        "Hello! This channel collects citizens' feedback on how public offices serve them.\n"
        "To follow a case, scan the QR code on your receipt, or press the button below to "
        "share the phone number you gave when filing."
    ),
    "chat.welcome.typed": (
        "Hello! This channel collects citizens' feedback on how public offices serve them.\n"
        "To follow a case, scan the QR code on your receipt to open the case page, then send "
        "the link code shown there in this chat."
    ),
    "chat.linked": (
        "✅ Case {code} — {procedure} is linked.\n"
        "You will get a notice when its status changes and a short survey when you receive "
        "the result."
    ),
    "chat.already_linked": "Case {code} is already linked to this chat.",
    "chat.link_taken": (
        "This case is linked to another account. If it is yours, please contact the one-stop desk."
    ),
    "chat.link_unknown": "This link is wrong or has expired. Please scan the QR code again.",
    "chat.link_code_unknown": (
        "This link code is not right. Please check the 8-character code printed on your "
        "receipt (for example ABCD-EFGH) and send it again."
    ),
    "chat.link_code_wait": (
        "The link code was wrong too many times. Please wait {minutes} minutes and try again."
    ),
    "chat.link_expired": "The survey for case {code} has closed. Thank you.",
    "chat.contact_not_own": "Please share only your own phone number with the button below.",
    "chat.contact_not_own.typed": "Please share only your own phone number.",
    "chat.contact_linked": "✅ Linked {count} case(s): {codes}.",
    "chat.contact_none": "No case carries this phone number yet.",
    "chat.contact_private": (
        "To protect your personal data, please share your phone number in a private chat "
        "with the bot, not in a group."
    ),
    "chat.link_moved": (
        "Case {code} has moved to the account that confirmed the applicant's phone number. "
        "This chat will get no more notices or surveys about it. If this is a mistake, "
        "please contact the one-stop desk."
    ),
    "chat.flood": "You are sending messages too fast. Please wait a minute and try again.",
    "chat.invite": (
        "Case {code} ({procedure}) has its result. Please take about a minute to rate how "
        "you were served. Your answers are confidential."
    ),
    "chat.reminder": "A gentle reminder: the survey about case {code} is not finished yet:",
    "chat.question": "Question {number}/{total}: {text}",
    "chat.hint_text": "(Type your suggestion and send it, or press “Skip”.)",
    "chat.hint_text.typed": "(Type your suggestion and send it, or type “Skip”.)",
    "chat.hint_multi": "(Choose up to {max}, then press “Done”.)",
    "chat.hint_multi.typed": (
        "(Type the number of each item you choose, up to {max}, then type “Done”.)"
    ),
    "chat.answered": "✔ {choice}",
    "chat.skipped": "— skipped",
    "chat.answer_noted": "✔ Question {number} noted: {choice}",
    "chat.answer_noted_plain": "✔ Question {number} noted.",
    "chat.share_phone_ask": (
        "To get notices and the survey about your case, share the phone number you gave when "
        "filing it, or send the link code printed on your receipt."
    ),
    "chat.share_phone_note": (
        "Your phone number finds the cases you filed, for notices and the survey. "
        "Or send the link code printed on your receipt."
    ),
    "chat.thanks": (
        "🙏 Thank you for completing the survey! Your answers help us serve you better."
    ),
    "chat.already_answered": "This question has already been answered.",
    "chat.survey_answered": "This case has already been rated. Thank you!",
    "chat.survey_closed": "This survey has closed.",
    "chat.required": "This question needs an answer.",
    "chat.pick_one": "Please choose at least one item.",
    "chat.picks": (
        "Selected: {picks}.\nPress more items (press one again to remove it), then press “Done” "
        "to finish."
    ),
    "chat.picks.typed": (
        "Selected: {picks}.\nType the number of another item to add it (type it again to remove "
        "it), then type “Done” to finish."
    ),
    "chat.picks_none": "Nothing selected yet. Press the items you choose, then press “Done”.",
    "chat.picks_none.typed": (
        "Nothing selected yet. Type the numbers of the items you choose, then type “Done”."
    ),
    "chat.pick_range": "Please type a number from 1 to {count}.",
    "chat.stale_button": "This button can no longer be used.",
    "chat.stale_button.typed": "This choice can no longer be used.",
    "chat.use_buttons": "Please answer with the buttons under the question.",
    "chat.use_buttons.typed": (
        "Please answer by typing the number or the words of one of the question's options."
    ),
    "chat.too_long": "Suggestions are limited to 1000 characters; please shorten it.",
    "chat.empty": "Please type your suggestion, or press “Skip”.",
    "chat.empty.typed": "Please type your suggestion, or type “Skip”.",
    "chat.media": "Sorry, the bot only takes answers as button presses or text messages.",
    "chat.media.typed": "Sorry, the bot only takes answers as text messages.",
    "chat.no_survey": "You have no open survey right now. Send /help for instructions.",
    "chat.stopped": "All messages from this bot are stopped. Send /start to receive them again.",
    "chat.help": (
        "The bot sends notices about your case and invites you to rate the service when you "
        "receive the result.\n"
        "/start — start, link a case\n"
        "/status <case code> — see a case's status\n"
        "/language vi|en — change language\n"
        "/stop — stop all messages\n"
        "/help — this help"
    ),
    "chat.language_set": "Language set to English.",
    "chat.language_usage": "Usage: /language vi or /language en",
    "chat.status_usage": "Usage: /status <case code>. Linked cases: {codes}",
    "chat.status_none_linked": "Usage: /status <case code>. You have not linked any case yet.",
    "chat.status_not_linked": "Case {code} is not among the cases linked to you.",
    "chat.status": (
        "Case {code}\n"
        "Procedure: {procedure}\n"
        "Status: {status}\n"
        "Received: {received}\n"
        "Promised return date: {due}\n"
        "Progress: {timeliness}"
    ),
    "chat.no_date": "not set",
    "chat.busy": "The system is busy; please try again in a few minutes.",
    "chat.notice_2": "Case {code} ({procedure}) was accepted. Promised return date: {due}.",
    "chat.notice_5": (
        "Case {code} ({procedure}) needs more documents. Please contact the one-stop desk."
    ),
    "chat.notice_6": "Case {code} ({procedure}): fees or taxes are due before work can go on.",
    "chat.notice_9": "Case {code} ({procedure}) has its result. Please collect it as arranged.",
    "chat.notice_10": "The result of case {code} ({procedure}) has been handed over.",
    "chat.apology": (
        "LETTER OF APOLOGY AND NEW RETURN DATE\n"
        "Dear {name},\n"
        "{agency} sincerely apologises: case {code} ({procedure}), received on {received}, "
        "was not finished by the promised date {old_due}.\n"
        "Reason: {reason}\n"
        "Processing unit: {unit}\n"
        "New return date: {new_due}, at {place}.\n"
        "Thank you for your understanding."
    ),
    "chat.apology_no_reason": "more processing time is needed",
    "chat.apology_place": "the one-stop desk where the case was filed",
    "chat.citizen": "citizen",
    # What an agency head, an inspector or a new admin reads: roles, alerts, digests.
    "head.role_head": (
        "✅ You are confirmed as head of {agency}. The bot will alert you about late cases "
        "and dissatisfied citizens."
    ),
    "head.role_inspector": (
        "✅ You are confirmed as an inspector. Complaints of money asked and harassment will "
        "reach you."
    ),
    "head.zalo_oa_token_dead": (
        "⚠️ The Zalo OA channel has stopped: Zalo refused to refresh its access token (the "
        "refresh token is no longer valid). Issue a new ZALO_OA_ACCESS_TOKEN and "
        "ZALO_OA_REFRESH_TOKEN and restart the service. Until then nothing goes out on the "
        "Zalo OA."
    ),
    "head.role_admin": "✅ You are now an administrator of SIPAS Bot.",
    "head.invite_unknown": "This invite is not valid. Please ask an administrator for a new one.",
    "head.invite_used": "This invite has already been used; each works once.",
    "head.invite_expired": "This invite has expired (72 hours). Please ask for a new one.",
    "head.low_title": "⚠️ Dissatisfied citizen — {agency}",
    "head.case": "Case: {code}",
    "head.procedure": "Procedure: {procedure}",
    "head.officer": "Officer: {officer}",
    "head.low_items": "Low ratings: {items}",
    "head.reasons": "Reasons: {reasons}",
    "head.comment": "Comment: {comment}",
    "head.money": "‼️ Complaint: asked for money beyond the fees",
    "head.harass": "‼️ Complaint: harassed or made to come back needlessly",
    "head.late_title": "⏰ Cases needing attention — {agency}",
    "head.overdue": "Overdue:",
    "head.due_soon": "Due within one working day:",
    "head.late_no_apology": "Returned late, no apology sent:",
    "head.late_line": "• {code} — {procedure} — due {due}",
    "head.escalated": "⬆️ Not acknowledged within 8 working hours, passed up:",
    "head.ack": "Acknowledged",
    "head.done": "Handled",
    "head.acked": "Recorded: acknowledged.",
    "head.already_acked": "This alert was already acknowledged.",
    "head.already_handled": "This alert was already handled.",
    "head.ask_note": "Please type a short note on how alert #{id} was handled.",
    "head.handled": "Alert #{id} recorded as handled. Thank you!",
    "head.not_yours": "You have no rights on this alert.",
    "head.follow_up": (
        "The agency has handled your complaint about case {code}. Are you now satisfied?"
    ),
    "head.follow_up_thanks": "Thank you for your answer.",
    "head.none": "none",
    "head.digest_title": "📊 Morning digest — {agency}",
    "head.digest_yesterday": "Yesterday ({day}): SIPAS {sipas} (n={n})",
    "head.digest_mtd": "Month to date: SIPAS {sipas} (n={n})",
    "head.digest_on_time": "On-time rate, month to date: {rate}",
    "head.digest_overdue": "Cases overdue now: {count}",
    "head.digest_best": "Best procedure: {procedure}",
    "head.digest_worst": "Procedure to improve: {procedure}",
    "head.digest_chart": "SIPAS, last 30 days — {agency}",
    "head.no_data": "no data yet",
    "head.monthly_title": "🗓 Results for {month} — {agency}",
    "head.monthly_body": (
        "SIPAS: {sipas} (responses: {responses})\n"
        "Cases received: {cases}\n"
        "On-time rate: {on_time_rate}\n"
        "Returned late: {late}\n"
        "Overdue now: {overdue_open}"
    ),
    "head.monthly_zns": "ZNS messages sent this month (paid by the agency): {count}",
    "head.monthly_oa": "Billable Zalo OA replies this month (after 48 hours): {count}",
    "head.below_title": "📉 SIPAS below threshold — {agency}",
    "head.below_line": "Month to date: {sipas}% (threshold {threshold}%, n={n})",
    # What admins (and anyone refused) read from the dispatcher and the admin commands.
    "admin.refused": "Sorry, you cannot use this command.",
    "admin.refused_press": "Sorry, you cannot use this button.",
    "admin.refused_press.typed": "Sorry, you cannot use this choice.",
    "admin.flood": "You are sending commands too fast. Please wait a minute and try again.",
    "admin.cancelled": "Cancelled.",
    "admin.nothing_to_cancel": "Nothing to cancel.",
    "admin.failed": "Sorry, the service is busy. Please try again in a few minutes.",
    "admin.help_title": "Your commands:",
    "admin.help_cancel": "Cancel what you are doing",
    "admin.gone_button": "This button no longer works.",
    "admin.gone_button.typed": "This choice no longer works.",
    "admin.menu_start": "Start, link a case",
    "admin.menu_help": "Help",
    "admin.menu_stop": "Stop all messages",
    "admin.menu_language": "Change language (vi/en)",
    "admin.menu_status": "See a case's status",
    "admin.h_invite": "Invite: /invite head <AgencyCode> | inspector | admin",
    "admin.h_people": "Heads, inspectors and admins",
    "admin.h_revoke": "Revoke: /revoke head <AgencyCode> <id> | inspector <id> | admin <id>",
    "admin.h_agencies": "Agency tree, alert thresholds, minimum samples",
    "admin.h_rename": "Rename an agency: /agency_rename <code> <new name>",
    "admin.h_parent": "Move an agency: /agency_parent <code> <parent code|->",
    "admin.h_threshold": "SIPAS alert threshold (%): /threshold <code> <0-100|->",
    "admin.h_min_sample": "Minimum sample: /min_sample <code> <n|->",
    "admin.h_zns": "How ZNS invites to the survey: /agency_zns <code> <rating|web|->",
    "admin.h_settings": "Show/change settings: /settings [key value]",
    "admin.h_audit": "Audit log (latest 20)",
    "admin.invite_usage": "Usage: /invite head <AgencyCode>, /invite inspector or /invite admin.",
    "admin.invite_unknown_agency": "There is no agency with code {code}.",
    "admin.invite_link": (
        "Invite link for {role} (single use, expires in 72 hours):\n"
        "{link}\n"
        "Send it to the person invited; they open it and press Start."
    ),
    "admin.invite_link.typed": (
        "Invite link for {role} (single use, expires in 72 hours):\n"
        "{link}\n"
        "Send it to the person invited; they open it and follow the steps."
    ),
    "admin.invite_code": (
        "On {channels}: the invitee ({role}) sends this code to the agency's Zalo account "
        "(single use, expires after 72 hours):\n{code}"
    ),
    "admin.invite_no_username": (
        "\n(The bot does not know its username yet: replace <bot> with it.)"
    ),
    "admin.role_head": "head of {agency}",
    "admin.role_inspector": "inspector",
    "admin.role_admin": "admin",
    "admin.people_title": "People with roles:",
    "admin.people_admins": "Admins:",
    "admin.people_env": "{who} (service configuration)",
    "admin.people_inspectors": "Inspectors:",
    "admin.people_heads": "Heads by agency:",
    "admin.people_none": "(none)",
    "admin.revoke_usage": (
        "Usage: /revoke head <AgencyCode> <id>, /revoke inspector <id> or /revoke admin <id> "
        "(the id as /people shows it, e.g. 12345)."
    ),
    "admin.revoke_env": (
        "This role comes from the service configuration and cannot be revoked by chat."
    ),
    "admin.revoke_none": "No such role to revoke.",
    "admin.revoked": "Revoked {role} from {who}. It applies from their next message.",
    "admin.agencies_title": "Agency tree (code — name; threshold %, sample):",
    "admin.agencies_none": "No agencies yet.",
    "admin.agency_line": "{indent}{code} — {name}{extra}",
    "admin.agency_extra": " [threshold {threshold}, sample {sample}]",
    "admin.default": "default",
    "admin.agency_unknown": "There is no agency with code {code}.",
    "admin.rename_usage": "Usage: /agency_rename <code> <new name>",
    "admin.renamed": "Renamed {code}: {before} → {after}",
    "admin.parent_usage": "Usage: /agency_parent <code> <parent code> (or - for none)",
    "admin.parent_cycle": "Not possible: {parent} is {code} itself or below it.",
    "admin.parent_set": "Parent of {code}: {before} → {after}",
    "admin.threshold_usage": "Usage: /threshold <code> <number 0 to 100> (or - for the default)",
    "admin.threshold_set": "Alert threshold of {code}: {before} → {after}",
    "admin.sample_usage": (
        "Usage: /min_sample <code> <whole number 1 to 10000> (or - for the default)"
    ),
    "admin.sample_set": "Minimum sample of {code}: {before} → {after}",
    "admin.zns_usage": (
        "Usage: /agency_zns <code> rating (the citizen gives stars in the ZNS message), web "
        "(the ZNS message invites to the full web survey), or - to follow the parent agency"
    ),
    "admin.zns_set": "ZNS survey invitation of {code}: {before} → {after}",
    "admin.zns_rating": "star rating",
    "admin.zns_invite": "web survey",
    "admin.zns_inherit": "as the parent agency",
    "admin.zns_no_template": (
        "Note: no ZNS template is configured for «{choice}» (ZALO_ZNS_TEMPLATES), so the "
        "other template is used until it is."
    ),
    "admin.zns_off": (
        "Note: ZNS is not configured (ZALO_ZNS_TEMPLATES), so no ZNS message is sent yet."
    ),
    "admin.agency_zns": " [ZNS: {zns}]",
    "admin.none": "(none)",
    "admin.settings_title": "Current settings (change with /settings <key> <value>):",
    "admin.settings_line": "{key} = {value} — {label}{changed}",
    "admin.settings_changed": " (changed by chat)",
    "admin.s_reminder": "remind after (hours, 1–720)",
    "admin.s_expiry": "survey expires after (days, 1–90)",
    "admin.s_quiet": "quiet hours (HH:MM-HH:MM or - for none)",
    "admin.s_status": "survey at case status (9 or 10)",
    "admin.s_escalation": "escalate after (working hours, 1–168)",
    "admin.settings_usage": "Unknown key. Keys: {keys}.",
    "admin.settings_bad_value": "Invalid value for {key}: expected {label}.",
    "admin.settings_set": "Changed {key}: {before} → {after}. In effect now.",
    "admin.settings_off": "off",
    "admin.audit_title": "Audit log (newest first):",
    "admin.audit_refusals_title": "Refusals (newest first):",
    "admin.audit_none": "The audit log is empty.",
    "admin.audit_line": "{at} · {who} · {action} {target}: {before} → {after}",
    "admin.audit_usage": "Usage: /audit (changes) or /audit refused (refusals).",
    # What heads read from /report, /late, /alerts and /mute.
    "report.report_usage": (
        "Usage: /report [month|quarter|year|YYYY-MM]. Example: /report 2026-10. Without a "
        "period: the month to date."
    ),
    "report.bad_period": (
        "I do not understand the period “{arg}”. Use month, quarter, year or YYYY-MM (e.g. "
        "/report 2026-10)."
    ),
    "report.future_period": "{month} has not started yet; there are no figures.",
    "report.too_old": "Reports start from the year 2000.",
    "report.need_agency": (
        "You head no agency. Administrators add an agency code, e.g. /{command} 000.00.01.H12"
    ),
    "report.too_many_args": "Too many arguments. {usage}",
    "report.report_title": "📊 SIPAS report — {agency}",
    "report.period": "Period: {start} – {end}",
    "report.sipas": "SIPAS: {value}% (n={n} responses; 95% interval {low}–{high}%)",
    "report.sipas_small": (
        "SIPAS: too few responses to publish ({n} so far, at least {min} needed)."
    ),
    "report.sipas_partial": "SIPAS: not computable, some factors have no answers yet (n={n}).",
    "report.sipas_none": "SIPAS: no answers in this period.",
    "report.factors": "By factor:",
    "report.factor": "• {name}: {value}% (n={n})",
    "report.factor_small": "• {name}: too few answers (n={n})",
    "report.factor_none": "• {name}: no answers",
    "report.on_time": "Handled on time: {rate}% ({good}/{ended} cases ended)",
    "report.on_time_none": "Handled on time: no case ended in this period.",
    "report.overdue": "Cases overdue now: {count}",
    "report.qd766": "Satisfaction under Decision 766: {pct}% (score {score}/100)",
    "report.response_rate": "Survey response rate: {rate}% ({completed}/{invited} invitations)",
    "report.worst": "Procedures to improve:",
    "report.worst_line": "• {name}: {value}% (n={n})",
    "report.worst_none": "Procedures to improve: none has enough answers yet.",
    "report.expectations": "What citizens most want improved: {items}",
    "report.agencies": "By agency:",
    "report.agency_line": "• {name}: {value}",
    "report.agency_value": "SIPAS {value}% (n={n})",
    "report.agency_small": "too few answers (n={n})",
    "report.agency_more": "… and {count} more agencies",
    "report.channels_title": "By channel:",
    "report.channels_line": "• {channel}: {rate}% ({completed}/{invited} invitations)",
    "report.channels_zns": "ZNS messages sent (paid by the agency):",
    "report.channels_oa": "Billable Zalo OA replies (after 48 hours):",
    "report.channels_paid_line": "• {month} — {agency}: {count} messages",
    "report.channels_more": "… and {count} more lines",
    "report.channels_name_telegram": "Telegram",
    "report.channels_name_zalo_oa": "Zalo OA",
    "report.channels_name_zalo_bot": "Zalo Bot",
    "report.channels_name_zns": "ZNS",
    "report.channels_name_web": "Web form",
    "report.chart_caption": "SIPAS by factor — {agency} ({start} – {end})",
    "report.chart_axis": "Index (%)",
    "report.chart_target": "Threshold {value}%",
    "report.late_title": "⏰ Cases overdue or due soon — {agency}",
    "report.late_overdue": "• {code} — {procedure} — due {due} (overdue)",
    "report.late_soon": "• {code} — {procedure} — due {due}",
    "report.late_none": "✅ No case is overdue or due within the next working day.",
    "report.late_more": "… and {count} more cases.",
    "report.alerts_title": "🔔 Open alerts: {count}",
    "report.alerts_none": "✅ No open alerts.",
    "report.alerts_more": "… and {count} more; handle the ones above, then send /alerts again.",
    "report.mute_usage": (
        "Usage: /mute <hours, 1 to {max}>, e.g. /mute 4. Send /mute 0 to turn alerts back on now."
    ),
    "report.mute_bad": (
        "“{arg}” is not a valid number of hours: send a whole number from 1 to {max} (e.g. "
        "/mute 4), or /mute 0 to turn alerts back on."
    ),
    "report.mute_set": (
        "🔕 Non-urgent alerts are held until {until}. Alerts raised meanwhile arrive then; "
        "none is lost. Complaints of money asked or harassment still arrive at once."
    ),
    "report.mute_off": "🔔 Alerts are back on; held alerts are sent now.",
    "report.mute_not_on": "Alerts are on; there is nothing to turn back on.",
    "report.mute_status": "🔕 Non-urgent alerts are held until {until}.",
    "report.no_data": "none",
    # Help lines of the heads' commands.
    "report.help.report": "SIPAS report of your agency: /report [month|quarter|year|YYYY-MM]",
    "report.help.late": "Cases overdue or due within a working day",
    "report.help.alerts": "Open alerts",
    "report.help.mute": "Hold non-urgent alerts: /mute <hours>",
    # The five SIPAS factors.
    "factor.1": "Access to the service",
    "factor.2": "Administrative procedure",
    "factor.3": "Civil servants",
    "factor.4": "Result",
    "factor.5": "Feedback and complaints",
    # What admins read while shaping the questionnaire.
    "editor.active_header": "📋 Active version: no. {version} ({base}), {count} questions.",
    "editor.no_active": "No questionnaire is active yet.",
    "editor.draft_header": "📝 Draft ({base}), {count} questions:",
    "editor.no_draft": "No draft yet. The first edit creates one from the active version.",
    "editor.active_list": "Questions of the active version:",
    "editor.question_line": ("{position}. {code} · {kind}{factor} · {required}\n   {text}"),
    "editor.factor": " · factor {factor}",
    "editor.required": "required",
    "editor.optional": "optional",
    "editor.branch": "asked after a low score in factor {factor}",
    "editor.diff_added": "➕ Added: {codes}",
    "editor.diff_removed": "➖ Removed: {codes}",
    "editor.diff_changed": "✏️ Changed: {codes}",
    "editor.diff_moved": "↕️ Order changed",
    "editor.diff_none": "The draft does not differ from the active version yet.",
    "editor.list_hint": "Preview: /preview · Publish: /publish · Drop the draft: /discard",
    "editor.edited": ("✅ Question {code} changed in the draft:\n{changes}"),
    "editor.change_line": "• {field}: {before} → {after}",
    "editor.added": (
        "✅ Question {code} added at the end of the draft (position {position}). Move it: "
        "/q_thutu {code} <position>"
    ),
    "editor.removed": "✅ Question {code} removed from the draft.",
    "editor.moved": "✅ Question {code}: position {before} → {after}.",
    "editor.rebased": (
        "✅ The draft is now the {base} ({count} questions). Earlier draft edits were replaced."
    ),
    "editor.published": (
        "✅ Version {version} published. New survey invitations use it from now on; surveys "
        "in progress keep their version."
    ),
    "editor.nothing_to_publish": "There is no draft to publish. Edit a question first.",
    "editor.discarded": "✅ Draft dropped. The active version is unchanged.",
    "editor.nothing_to_discard": "There is no draft to drop.",
    "editor.no_form": "No questionnaire is stored yet; restart the service.",
    "editor.busy": "The system is busy, please try again in a few minutes.",
    "editor.q_move_usage": "Usage: /q_thutu <code> <position>, e.g. /q_thutu COMMENT 1",
    "editor.q_base_usage": "Usage: /q_mau rutgon (short form) or /q_mau daydu (full SIPAS form).",
    "editor.ask_code": "Which question? Send its code ({codes}). Send /cancel to stop.",
    "editor.ask_new_vi": ("Question {code} now reads:\n{text}\n\nSend the new Vietnamese text."),
    "editor.ask_field": ("Which field of question {code}? Send one of:\n{fields}"),
    "editor.ask_value": ("Question {code}, {field}. Now: {current}\nSend the new value."),
    "editor.ask_new_code": (
        "New question. Send its code (ASCII letters, digits, '.' or '_', up to 24 "
        "characters), e.g. F6. Send /cancel to stop."
    ),
    "editor.ask_kind": ("Kind of question? Send the number:\n{kinds}"),
    "editor.ask_topic": ("Topic (used for scoring)? Send the number:\n{topics}"),
    "editor.ask_factor": (
        "Which factor (1–5)?\n1 Access · 2 Procedure · 3 Officials · 4 Result · 5 Feedback handling"
    ),
    "editor.ask_text_vi": "Send the question text in Vietnamese.",
    "editor.ask_text_en": "Send the question text in English.",
    "editor.ask_options": "Send the options in one message.\n" + _OPTIONS_FORMAT,
    "editor.ask_max": "How many options may a citizen pick (1–{count})?",
    "editor.ask_required": "Must it be answered? Send: co (yes) or khong (no).",
    "editor.ask_remove": "Remove which question? Send its code ({codes}). Send /cancel to stop.",
    "editor.try_again": ("{error}\nPlease send it again, or /cancel to stop."),
    "editor.bad_field": ("There is no field “{value}”. Fields:\n{fields}"),
    "editor.bad_code": "Code “{code}” is not valid: ASCII letters, digits, '.' or '_', up to 24.",
    "editor.unknown_code": "The draft has no question “{code}”. See the list: /cauhoi",
    "editor.code_taken": "Code “{code}” is already used; choose another.",
    "editor.bad_kind": "There is no kind “{value}”. Kinds: likert5, yes_no, choice, text.",
    "editor.bad_topic": "Topic “{value}” does not exist or does not fit the kind.",
    "editor.bad_factor": "The factor is a number from 1 to 5 (or '-' for none).",
    "editor.bad_required": "Send “co” (required) or “khong” (optional).",
    "editor.bad_max_value": "The most options one may pick is a number from 1 to 10.",
    "editor.bad_max": "Question {code}: the most options one may pick must fit the options.",
    "editor.empty_text": "The text cannot be empty.",
    "editor.text_too_long": "At most {limit} characters; please shorten it.",
    "editor.need_options": "A choice needs at least two options.\n" + _OPTIONS_FORMAT,
    "editor.too_many_options": "At most {limit} options.",
    "editor.bad_option": "Option “{value}” is not in the right form.\n" + _OPTIONS_FORMAT,
    "editor.bad_option_code": "Option code “{code}” is not valid: 1–8 ASCII letters or digits.",
    "editor.option_too_long": "Each option has at most {limit} characters (to fit a button).",
    "editor.option_too_long.typed": "Each option has at most {limit} characters.",
    "editor.option_twice": "Two options share a code.",
    "editor.option_texts": "Question {code}: every option needs Vietnamese and English.",
    "editor.options_only_choice": "Question {code}: only a choice has options.",
    "editor.need_texts": "Question {code} needs Vietnamese and English text.",
    "editor.bad_base": "There is no form “{value}”. Built-in forms: rutgon, daydu.",
    "editor.topic_kind": "Question {code}: topic “{topic}” needs kind {kind}.",
    "editor.kind_needs_topic": (
        "Question {code}: kind {kind} needs a topic ({topics}), e.g. /q_sua {code} loai "
        "{kind} {first}"
    ),
    "editor.kind_needs_options": (
        "Question {code}: a choice needs options. Send /q_sua alone to be guided step by step."
    ),
    "editor.factor_needed": (
        "Question {code} is a criterion or a reason, so it needs a factor 1–5."
    ),
    "editor.factor_unused": (
        "Question {code} is neither a criterion nor a reason, so it has no factor (send '-')."
    ),
    "editor.reason_branch": "Question {code}: a reason is asked only after a low score.",
    "editor.branch_no_likert": (
        "Question {code} asks why after a low score, but its factor has no five-level "
        "question left. Remove that reason question first."
    ),
    "editor.branch_optional": "Question {code} asks for a reason, so it is optional.",
    "editor.branch_choice": "Question {code}: a reason is a choice in its own factor.",
    "editor.need_likert": "The questionnaire needs at least one five-level question.",
    "editor.bad_position": "The position is a number from 1 to {count}.",
    "editor.unchanged": "Question {code} already has that value; nothing changed.",
    "editor.invalid": "This change would make the questionnaire invalid ({detail}).",
    "editor.preview_header": (
        "👁 PREVIEW of the draft — as a citizen sees it; no answer is recorded. Send /cancel "
        "to stop."
    ),
    "editor.preview_no_draft": "There is no draft to preview. Edit a question to create one.",
    "editor.preview_stale": "The draft has changed; send /preview to preview it again.",
    "editor.preview_done": "👁 End of the preview. No answer was recorded. Publish: /publish",
    "editor.preview_over": "The preview has ended.",
    # Question kinds.
    "editor.kind.likert5": "five levels",
    "editor.kind.yes_no": "yes/no",
    "editor.kind.choice": "choice",
    "editor.kind.text": "free text",
    # Question topics.
    "editor.topic.criterion": "SIPAS criterion of a factor",
    "editor.topic.overall": "overall satisfaction",
    "editor.topic.money_asked": "asked for extra money",
    "editor.topic.harassment": "harassed or sent back needlessly",
    "editor.topic.on_time": "result on time",
    "editor.topic.visits": "number of visits",
    "editor.topic.expectations": "what to improve",
    "editor.topic.reason": "reason for a low score, asked after it",
    "editor.topic.suggestion": "suggestion",
    # Question fields, as /q_sua lists them.
    "editor.field.text_vi": "vi — Vietnamese text",
    "editor.field.text_en": "en — English text",
    "editor.field.kind": "loai — kind",
    "editor.field.topic": "chude — topic",
    "editor.field.factor": "nhom — factor 1–5",
    "editor.field.required": "batbuoc — required (co/khong)",
    "editor.field.options": "luachon — options",
    "editor.field.max_choices": "toida — most options one may pick",
    # How a changed field reads in an edit confirmation.
    "editor.changed.text_vi": "Vietnamese text",
    "editor.changed.text_en": "English text",
    "editor.changed.kind": "kind",
    "editor.changed.topic": "topic",
    "editor.changed.factor": "factor",
    "editor.changed.required": "required",
    "editor.changed.options": "options",
    "editor.changed.max_choices": "most options picked",
    "editor.changed.after_low_in_factor": "asked after a low score in factor",
    "editor.changed.yes": "yes",
    "editor.changed.no": "no",
    # Built-in forms.
    "editor.base.short": "short form",
    "editor.base.full": "full SIPAS form (19 criteria)",
    "editor.base.custom": "custom",
    # Help lines of the questionnaire commands.
    "editor.help.list": "Show the active questionnaire and the draft",
    "editor.help.q_edit": "Change the Vietnamese text: /q_edit <code> <new text>",
    "editor.help.q_set": "Change a question field: /q_sua <code> <field> <value>",
    "editor.help.q_add": "Add a question (step by step)",
    "editor.help.q_remove": "Remove a question from the draft: /q_xoa <code>",
    "editor.help.q_move": "Reorder: /q_thutu <code> <position>",
    "editor.help.q_base": "Use a built-in form as the draft: /q_mau rutgon|daydu",
    "editor.help.preview": "Walk through the draft as a citizen would",
    "editor.help.publish": "Publish the draft as a new version",
    "editor.help.discard": "Drop the draft",
    # Button labels.
    "button.yes": "Yes",
    "button.no": "No",
    "button.skip": "Skip",
    "button.done": "Done ✅",
    "button.contact": "📱 Share my phone number",
    # The five Likert levels, in order; each button's text contains the contract's label.
    "likert.1": "Very dissatisfied",
    "likert.2": "Dissatisfied",
    "likert.3": "Neutral",
    "likert.4": "Satisfied",
    "likert.5": "Very satisfied",
    # Case statuses as one-stop systems report them.
    "case_status.1": "Newly filed",
    "case_status.2": "Accepted",
    "case_status.3": "Not accepted",
    "case_status.4": "Being processed",
    "case_status.5": "More documents requested",
    "case_status.6": "Fees or taxes due",
    "case_status.7": "Withdrawn by the applicant",
    "case_status.8": "Processing stopped",
    "case_status.9": "Result ready",
    "case_status.10": "Result handed over",
    # Timeliness of a case.
    "timeliness.open": "Within the deadline",
    "timeliness.overdue": "Overdue",
    "timeliness.early": "Returned early",
    "timeliness.on_time": "Returned on time",
    "timeliness.late": "Returned late",
    # The web case page.
    "case_page.title": "Case lookup",
    "case_page.case_code": "Case code",
    "case_page.procedure": "Procedure",
    "case_page.status": "Status",
    "case_page.received": "Received",
    "case_page.promised": "Promised return date",
    "case_page.timeliness": "Progress",
    "case_page.telegram": "Get notices and the survey on Telegram",
    "case_page.survey_later": "When you receive the result, please tell us how you were served.",
    "case_page.not_found_title": "Case not found",
    "case_page.not_found": "The link is wrong or has expired. Please check your receipt.",
    # The web survey behind the receipt's link (`/s/<token>`).
    "web.other_language": "Tiếng Việt",
    "web.follow_title": "Get notices about your case",
    "web.zalo_oa": "Open the agency's Zalo OA",
    "web.link_code_hint": "Send this link code to the agency on Zalo for notices and the survey:",
    "web.survey_title": "Tell us how you were served",
    "web.survey_intro": (
        "Case {code} — {procedure}. Please tell us how satisfied you are with the agency's "
        "service; it takes about 2 minutes."
    ),
    "web.answered_elsewhere": "You answered {count} questions in the chat; please answer the rest.",
    "web.required_note": "Questions marked * are required.",
    "web.choose_up_to": "Choose up to {max}.",
    "web.choose_one": "Choose the one that fits best.",
    "web.text_hint": "Up to {max} characters.",
    "web.send": "Send",
    "web.why_step": "Please tell us what was not satisfactory (optional), then send.",
    "web.missing": "Please answer this question.",
    "web.missing_summary": (
        "{count} required questions are not answered yet; they are marked below. Nothing has "
        "been recorded yet."
    ),
    "web.invalid_summary": (
        "Some answers are not valid, so nothing has been recorded; please check the marked "
        "questions."
    ),
    "web.unknown_question": (
        "The form held a question this questionnaire does not have; please reload the page and "
        "send it again."
    ),
    "web.error_out_of_range": "This is not one of the question's choices.",
    "web.error_too_many": "Choose at most {max}.",
    "web.error_too_long": "The text is longer than {max} characters; please shorten it.",
    "web.thanks_title": "Thank you",
    "web.thanks": (
        "Your rating of case {code} has been recorded. Thank you for helping the agency serve "
        "better."
    ),
    "web.already_answered": "Case {code} has already been rated, so this form was not recorded.",
    "web.expired_title": "The survey has ended",
    "web.expired": "The time to rate case {code} has passed. Thank you for your interest.",
    "web.closed": "The survey about case {code} was stopped at your request. Thank you.",
    "web.forbidden_title": "The form could not be sent",
    "web.forbidden": (
        "The form is not valid or is out of date, so nothing was recorded. Please open the "
        "link on your receipt again and answer once more."
    ),
    "web.bad_form_title": "The form could not be read",
    "web.bad_form": (
        "The form could not be read, so nothing was recorded. Please open the link on your "
        "receipt again."
    ),
    "web.slow_down_title": "Too many requests",
    "web.slow_down": "This page got too many requests at once. Please wait a minute and try again.",
    "receipt.title": "Tell us how you were served",
    "receipt.scan": "Scan the QR code to follow your case and rate the service.",
    "receipt.case_code": "Case code: {code}",
    "receipt.link_code": "Link code",
    "receipt.zalo": "Or send the code {code} to the agency's Zalo OA:",
    "receipt.telegram": "Or get notices and the survey on Telegram:",
    "receipt.web": "Or open the link:",
}
