"""Everything a citizen, head or admin reads: Vietnamese first, English second."""

from __future__ import annotations

from typing import Final

VI: Final = "vi"
EN: Final = "en"

CASE_STATUS: Final[dict[str, dict[int, str]]] = {
    VI: {
        1: "Mới đăng ký",
        2: "Được tiếp nhận",
        3: "Không được tiếp nhận",
        4: "Đang xử lý",
        5: "Yêu cầu bổ sung giấy tờ",
        6: "Yêu cầu thực hiện nghĩa vụ tài chính",
        7: "Công dân yêu cầu rút hồ sơ",
        8: "Dừng xử lý",
        9: "Đã xử lý xong",
        10: "Đã trả kết quả",
    },
    EN: {
        1: "Newly filed",
        2: "Accepted",
        3: "Not accepted",
        4: "Being processed",
        5: "More documents requested",
        6: "Fees or taxes due",
        7: "Withdrawn by the applicant",
        8: "Processing stopped",
        9: "Result ready",
        10: "Result handed over",
    },
}

TIMELINESS: Final[dict[str, dict[str, str]]] = {
    VI: {
        "open": "Đang trong hạn",
        "overdue": "Quá hạn",
        "early": "Trả trước hạn",
        "on_time": "Trả đúng hạn",
        "late": "Trả trễ hạn",
    },
    EN: {
        "open": "Within the deadline",
        "overdue": "Overdue",
        "early": "Returned early",
        "on_time": "Returned on time",
        "late": "Returned late",
    },
}

CASE_PAGE: Final[dict[str, dict[str, str]]] = {
    VI: {
        "title": "Tra cứu hồ sơ",
        "case_code": "Mã hồ sơ",
        "procedure": "Thủ tục",
        "status": "Trạng thái",
        "received": "Ngày tiếp nhận",
        "promised": "Ngày hẹn trả",
        "timeliness": "Tiến độ",
        "telegram": "Nhận thông báo và khảo sát qua Telegram",
        "survey_later": (
            "Khi nhận kết quả, mời Ông/Bà cho ý kiến đánh giá về sự phục vụ. "
            "Ý kiến của Ông/Bà giúp cơ quan phục vụ tốt hơn."
        ),
        "not_found_title": "Không tìm thấy hồ sơ",
        "not_found": "Đường dẫn không đúng hoặc đã hết hạn. Vui lòng kiểm tra lại phiếu hẹn.",
    },
    EN: {
        "title": "Case lookup",
        "case_code": "Case code",
        "procedure": "Procedure",
        "status": "Status",
        "received": "Received",
        "promised": "Promised return date",
        "timeliness": "Progress",
        "telegram": "Get notices and the survey on Telegram",
        "survey_later": "When you receive the result, please tell us how you were served.",
        "not_found_title": "Case not found",
        "not_found": "The link is wrong or has expired. Please check your receipt.",
    },
}

# Five levels, in order; each button's text contains the contract's label.
LIKERT: Final[dict[str, tuple[str, ...]]] = {
    VI: ("Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"),
    EN: ("Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"),
}
LIKERT_VI_LABELS: Final = LIKERT[VI]

BUTTONS: Final[dict[str, dict[str, str]]] = {
    VI: {
        "yes": "Có",
        "no": "Không",
        "skip": "Bỏ qua",
        "done": "Xong ✅",
        "contact": "📱 Chia sẻ số điện thoại",
    },
    EN: {
        "yes": "Yes",
        "no": "No",
        "skip": "Skip",
        "done": "Done ✅",
        "contact": "📱 Share my phone number",
    },
}

CHAT: Final[dict[str, dict[str, str]]] = {
    VI: {
        "welcome": (
            "Xin chào! Đây là kênh lấy ý kiến người dân về sự phục vụ của cơ quan hành chính.\n"
            "Để theo dõi hồ sơ, Ông/Bà hãy quét mã QR trên phiếu hẹn, hoặc bấm nút bên dưới "
            "để chia sẻ số điện thoại đã khai khi nộp hồ sơ."
        ),
        "linked": (
            "✅ Đã liên kết hồ sơ {code} — {procedure}.\n"
            "Ông/Bà sẽ nhận thông báo khi hồ sơ thay đổi trạng thái và được mời đánh giá "
            "khi nhận kết quả."
        ),
        "already_linked": "Hồ sơ {code} đã được liên kết với cuộc trò chuyện này.",
        "link_taken": (
            "Hồ sơ này đã được liên kết với một tài khoản khác. Nếu đây là hồ sơ của "
            "Ông/Bà, vui lòng liên hệ Bộ phận Một cửa."
        ),
        "link_unknown": (
            "Mã liên kết không đúng hoặc đã hết hạn. Vui lòng quét lại mã QR trên phiếu hẹn."
        ),
        "link_expired": "Đợt khảo sát của hồ sơ {code} đã kết thúc. Cảm ơn Ông/Bà.",
        "contact_not_own": (
            "Vui lòng chỉ chia sẻ số điện thoại của chính Ông/Bà bằng nút bên dưới."
        ),
        "contact_linked": "✅ Đã liên kết {count} hồ sơ: {codes}.",
        "contact_none": "Chưa tìm thấy hồ sơ nào mang số điện thoại này.",
        "contact_private": (
            "Để bảo vệ thông tin cá nhân, Ông/Bà vui lòng chia sẻ số điện thoại trong cuộc trò "
            "chuyện riêng với bot, không chia sẻ trong nhóm."
        ),
        "link_moved": (
            "Hồ sơ {code} đã được chuyển sang tài khoản đã xác nhận số điện thoại của người "
            "nộp hồ sơ. Cuộc trò chuyện này sẽ không nhận thêm thông báo hay khảo sát về hồ sơ "
            "này. Nếu có nhầm lẫn, vui lòng liên hệ Bộ phận Một cửa."
        ),
        "flood": "Ông/Bà gửi tin nhắn quá nhanh. Vui lòng chờ một phút rồi thử lại.",
        "invite": (
            "Hồ sơ {code} ({procedure}) đã có kết quả. Mời Ông/Bà dành khoảng 1 phút "
            "đánh giá sự phục vụ. Ý kiến của Ông/Bà được giữ kín."
        ),
        "reminder": (
            "Nhắc nhẹ: Ông/Bà chưa hoàn thành khảo sát về hồ sơ {code}. Mời Ông/Bà tiếp tục:"
        ),
        "question": "Câu {number}/{total}: {text}",
        "hint_text": "(Nhập góp ý và gửi, hoặc bấm “Bỏ qua”.)",
        "hint_multi": "(Chọn tối đa {max} mục, rồi bấm “Xong”.)",
        "answered": "✔ {choice}",
        "skipped": "— đã bỏ qua",
        "thanks": (
            "🙏 Cảm ơn Ông/Bà đã hoàn thành khảo sát! Ý kiến của Ông/Bà giúp cơ quan "
            "phục vụ người dân tốt hơn."
        ),
        "already_answered": "Câu hỏi này đã được trả lời.",
        "survey_closed": "Khảo sát này đã kết thúc.",
        "required": "Câu hỏi này cần được trả lời.",
        "pick_one": "Vui lòng chọn ít nhất một mục.",
        "stale_button": "Nút này không còn dùng được.",
        "use_buttons": "Vui lòng trả lời bằng các nút bên dưới câu hỏi.",
        "too_long": "Góp ý tối đa 1000 ký tự, Ông/Bà vui lòng rút gọn.",
        "empty": "Vui lòng nhập nội dung góp ý, hoặc bấm “Bỏ qua”.",
        "media": "Xin lỗi, bot chỉ nhận câu trả lời bằng nút bấm hoặc tin nhắn chữ.",
        "no_survey": ("Hiện Ông/Bà chưa có khảo sát nào đang mở. Gõ /help để xem hướng dẫn."),
        "stopped": ("Đã dừng mọi tin nhắn từ bot tới Ông/Bà. Khi muốn nhận lại, hãy gõ /start."),
        "help": (
            "Bot gửi thông báo về hồ sơ và mời Ông/Bà đánh giá sự phục vụ khi nhận kết quả.\n"
            "/start — bắt đầu, liên kết hồ sơ\n"
            "/status <mã hồ sơ> — xem tình trạng hồ sơ\n"
            "/language vi|en — đổi ngôn ngữ\n"
            "/stop — dừng nhận tin nhắn\n"
            "/help — hướng dẫn"
        ),
        "language_set": "Đã chuyển sang tiếng Việt.",
        "language_usage": "Cách dùng: /language vi hoặc /language en",
        "status_usage": "Cách dùng: /status <mã hồ sơ>. Hồ sơ đã liên kết: {codes}",
        "status_none_linked": "Cách dùng: /status <mã hồ sơ>. Ông/Bà chưa liên kết hồ sơ nào.",
        "status_not_linked": "Không có hồ sơ {code} trong các hồ sơ đã liên kết với Ông/Bà.",
        "status": (
            "Hồ sơ {code}\nThủ tục: {procedure}\nTrạng thái: {status}\n"
            "Ngày tiếp nhận: {received}\nNgày hẹn trả: {due}\nTiến độ: {timeliness}"
        ),
        "no_date": "chưa có",
        "busy": "Hệ thống đang bận, Ông/Bà vui lòng thử lại sau ít phút.",
        "notice_2": "Hồ sơ {code} ({procedure}) đã được tiếp nhận. Ngày hẹn trả kết quả: {due}.",
        "notice_5": (
            "Hồ sơ {code} ({procedure}) cần bổ sung giấy tờ. Vui lòng liên hệ Bộ phận Một cửa "
            "để được hướng dẫn."
        ),
        "notice_6": (
            "Hồ sơ {code} ({procedure}): Ông/Bà cần thực hiện nghĩa vụ tài chính (phí, lệ phí, "
            "thuế) để hồ sơ được tiếp tục giải quyết."
        ),
        "notice_9": (
            "Hồ sơ {code} ({procedure}) đã có kết quả. Mời Ông/Bà đến nhận kết quả theo hẹn."
        ),
        "notice_10": "Hồ sơ {code} ({procedure}) đã được trả kết quả.",
        "apology": (
            "THƯ XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ\n"
            "Kính gửi Ông/Bà {name},\n"
            "{agency} chân thành xin lỗi vì hồ sơ {code} ({procedure}), tiếp nhận ngày "
            "{received}, chưa có kết quả đúng hẹn ngày {old_due}.\n"
            "Lý do: {reason}\n"
            "Đơn vị giải quyết: {unit}\n"
            "Ngày hẹn trả kết quả mới: {new_due}, tại {place}.\n"
            "Mong Ông/Bà thông cảm."
        ),
        "apology_no_reason": "cần thêm thời gian xử lý",
        "apology_place": "Bộ phận Một cửa nơi nộp hồ sơ",
        "citizen": "công dân",
    },
    EN: {
        "welcome": (
            "Hello! This channel collects citizens' feedback on how public offices serve them.\n"
            "To follow a case, scan the QR code on your receipt, or press the button below to "
            "share the phone number you gave when filing."
        ),
        "linked": (
            "✅ Case {code} — {procedure} is linked.\n"
            "You will get a notice when its status changes and a short survey when you "
            "receive the result."
        ),
        "already_linked": "Case {code} is already linked to this chat.",
        "link_taken": (
            "This case is linked to another account. If it is yours, please contact the "
            "one-stop desk."
        ),
        "link_unknown": "This link is wrong or has expired. Please scan the QR code again.",
        "link_expired": "The survey for case {code} has closed. Thank you.",
        "contact_not_own": "Please share only your own phone number with the button below.",
        "contact_linked": "✅ Linked {count} case(s): {codes}.",
        "contact_none": "No case carries this phone number yet.",
        "contact_private": (
            "To protect your personal data, please share your phone number in a private chat "
            "with the bot, not in a group."
        ),
        "link_moved": (
            "Case {code} has moved to the account that confirmed the applicant's phone number. "
            "This chat will get no more notices or surveys about it. If this is a mistake, "
            "please contact the one-stop desk."
        ),
        "flood": "You are sending messages too fast. Please wait a minute and try again.",
        "invite": (
            "Case {code} ({procedure}) has its result. Please take about a minute to rate "
            "how you were served. Your answers are confidential."
        ),
        "reminder": "A gentle reminder: the survey about case {code} is not finished yet:",
        "question": "Question {number}/{total}: {text}",
        "hint_text": "(Type your suggestion and send it, or press “Skip”.)",
        "hint_multi": "(Choose up to {max}, then press “Done”.)",
        "answered": "✔ {choice}",
        "skipped": "— skipped",
        "thanks": "🙏 Thank you for completing the survey! Your answers help us serve you better.",
        "already_answered": "This question has already been answered.",
        "survey_closed": "This survey has closed.",
        "required": "This question needs an answer.",
        "pick_one": "Please choose at least one item.",
        "stale_button": "This button can no longer be used.",
        "use_buttons": "Please answer with the buttons under the question.",
        "too_long": "Suggestions are limited to 1000 characters; please shorten it.",
        "empty": "Please type your suggestion, or press “Skip”.",
        "media": "Sorry, the bot only takes answers as button presses or text messages.",
        "no_survey": "You have no open survey right now. Send /help for instructions.",
        "stopped": "All messages from this bot are stopped. Send /start to receive them again.",
        "help": (
            "The bot sends notices about your case and invites you to rate the service when "
            "you receive the result.\n"
            "/start — start, link a case\n"
            "/status <case code> — see a case's status\n"
            "/language vi|en — change language\n"
            "/stop — stop all messages\n"
            "/help — this help"
        ),
        "language_set": "Language set to English.",
        "language_usage": "Usage: /language vi or /language en",
        "status_usage": "Usage: /status <case code>. Linked cases: {codes}",
        "status_none_linked": "Usage: /status <case code>. You have not linked any case yet.",
        "status_not_linked": "Case {code} is not among the cases linked to you.",
        "status": (
            "Case {code}\nProcedure: {procedure}\nStatus: {status}\n"
            "Received: {received}\nPromised return date: {due}\nProgress: {timeliness}"
        ),
        "no_date": "not set",
        "busy": "The system is busy; please try again in a few minutes.",
        "notice_2": "Case {code} ({procedure}) was accepted. Promised return date: {due}.",
        "notice_5": (
            "Case {code} ({procedure}) needs more documents. Please contact the one-stop desk."
        ),
        "notice_6": "Case {code} ({procedure}): fees or taxes are due before work can go on.",
        "notice_9": "Case {code} ({procedure}) has its result. Please collect it as arranged.",
        "notice_10": "The result of case {code} ({procedure}) has been handed over.",
        "apology": (
            "LETTER OF APOLOGY AND NEW RETURN DATE\n"
            "Dear {name},\n"
            "{agency} sincerely apologises: case {code} ({procedure}), received on "
            "{received}, was not finished by the promised date {old_due}.\n"
            "Reason: {reason}\n"
            "Processing unit: {unit}\n"
            "New return date: {new_due}, at {place}.\n"
            "Thank you for your understanding."
        ),
        "apology_no_reason": "more processing time is needed",
        "apology_place": "the one-stop desk where the case was filed",
        "citizen": "citizen",
    },
}


def chat_text(language: str, key: str, **params: object) -> str:
    """A chat message in `language` (Vietnamese when unknown), with `params` filled in."""
    table = CHAT.get(language, CHAT[VI])
    template = table.get(key) or CHAT[VI][key]
    return template.format(**params) if params else template


HEAD: Final[dict[str, dict[str, str]]] = {
    VI: {
        "role_head": "✅ Ông/Bà đã được xác nhận là thủ trưởng {agency}. Bot sẽ gửi cảnh báo về "
        "hồ sơ trễ hạn và ý kiến chưa hài lòng của người dân.",
        "role_inspector": "✅ Ông/Bà đã được xác nhận là thanh tra. Bot sẽ chuyển các phản ánh "
        "về đòi tiền ngoài quy định và nhũng nhiễu.",
        "role_admin": "✅ Ông/Bà đã được cấp quyền quản trị SIPAS Bot.",
        "invite_unknown": "Lời mời không đúng. Vui lòng xin lời mời mới từ quản trị viên.",
        "invite_used": "Lời mời này đã được sử dụng. Mỗi lời mời chỉ dùng được một lần.",
        "invite_expired": "Lời mời đã hết hạn (72 giờ). Vui lòng xin lời mời mới.",
        "low_title": "⚠️ Ý kiến chưa hài lòng — {agency}",
        "case": "Hồ sơ: {code}",
        "procedure": "Thủ tục: {procedure}",
        "officer": "Công chức: {officer}",
        "low_items": "Đánh giá thấp: {items}",
        "reasons": "Lý do: {reasons}",
        "comment": "Góp ý: {comment}",
        "money": "‼️ Phản ánh: bị yêu cầu nộp tiền ngoài quy định",
        "harass": "‼️ Phản ánh: bị nhũng nhiễu, gây phiền hà",
        "late_title": "⏰ Hồ sơ cần chú ý — {agency}",
        "overdue": "Quá hạn:",
        "due_soon": "Đến hạn trong 1 ngày làm việc:",
        "late_no_apology": "Trả trễ hẹn, chưa có thư xin lỗi:",
        "late_line": "• {code} — {procedure} — hẹn {due}",
        "escalated": "⬆️ Chưa được tiếp nhận sau 8 giờ làm việc, chuyển lên cấp trên:",
        "ack": "Đã tiếp nhận",
        "done": "Đã xử lý",
        "acked": "Đã ghi nhận: đã tiếp nhận.",
        "already_acked": "Cảnh báo này đã được tiếp nhận trước đó.",
        "already_handled": "Cảnh báo này đã được xử lý.",
        "ask_note": "Vui lòng nhập ghi chú ngắn về cách đã xử lý cảnh báo #{id}.",
        "handled": "Đã ghi nhận xử lý cảnh báo #{id}. Cảm ơn Ông/Bà!",
        "not_yours": "Ông/Bà không có quyền với cảnh báo này.",
        "follow_up": "Cơ quan đã xử lý phản ánh của Ông/Bà về hồ sơ {code}. Ông/Bà có hài lòng "
        "với cách xử lý không?",
        "follow_up_thanks": "Cảm ơn Ông/Bà đã phản hồi.",
        "none": "không có",
        "digest_title": "📊 Bản tin sáng — {agency}",
        "digest_yesterday": "Hôm qua ({day}): SIPAS {sipas} (n={n})",
        "digest_mtd": "Từ đầu tháng: SIPAS {sipas} (n={n})",
        "digest_on_time": "Tỷ lệ đúng hạn từ đầu tháng: {rate}",
        "digest_overdue": "Hồ sơ đang quá hạn: {count}",
        "digest_best": "Thủ tục tốt nhất: {procedure}",
        "digest_worst": "Thủ tục cần cải thiện: {procedure}",
        "digest_chart": "SIPAS 30 ngày — {agency}",
        "no_data": "chưa có dữ liệu",
        "monthly_title": "🗓 Kết quả tháng {month} — {agency}",
        "monthly_body": "SIPAS: {sipas} (số phiếu: {responses})\nHồ sơ tiếp nhận: {cases}\n"
        "Tỷ lệ đúng hạn: {on_time_rate}\nTrả trễ hạn: {late}\nĐang quá hạn: {overdue_open}",
        "below_title": "📉 SIPAS dưới ngưỡng — {agency}",
        "below_line": "Từ đầu tháng: {sipas}% (ngưỡng {threshold}%, n={n})",
    },
    EN: {
        "role_head": "✅ You are confirmed as head of {agency}. The bot will alert you about late "
        "cases and dissatisfied citizens.",
        "role_inspector": "✅ You are confirmed as an inspector. Complaints of money asked and "
        "harassment will reach you.",
        "role_admin": "✅ You are now an administrator of SIPAS Bot.",
        "invite_unknown": "This invite is not valid. Please ask an administrator for a new one.",
        "invite_used": "This invite has already been used; each works once.",
        "invite_expired": "This invite has expired (72 hours). Please ask for a new one.",
        "low_title": "⚠️ Dissatisfied citizen — {agency}",
        "case": "Case: {code}",
        "procedure": "Procedure: {procedure}",
        "officer": "Officer: {officer}",
        "low_items": "Low ratings: {items}",
        "reasons": "Reasons: {reasons}",
        "comment": "Comment: {comment}",
        "money": "‼️ Complaint: asked for money beyond the fees",
        "harass": "‼️ Complaint: harassed or made to come back needlessly",
        "late_title": "⏰ Cases needing attention — {agency}",
        "overdue": "Overdue:",
        "due_soon": "Due within one working day:",
        "late_no_apology": "Returned late, no apology sent:",
        "late_line": "• {code} — {procedure} — due {due}",
        "escalated": "⬆️ Not acknowledged within 8 working hours, passed up:",
        "ack": "Acknowledged",
        "done": "Handled",
        "acked": "Recorded: acknowledged.",
        "already_acked": "This alert was already acknowledged.",
        "already_handled": "This alert was already handled.",
        "ask_note": "Please type a short note on how alert #{id} was handled.",
        "handled": "Alert #{id} recorded as handled. Thank you!",
        "not_yours": "You have no rights on this alert.",
        "follow_up": "The agency has handled your complaint about case {code}. Are you now "
        "satisfied?",
        "follow_up_thanks": "Thank you for your answer.",
        "none": "none",
        "digest_title": "📊 Morning digest — {agency}",
        "digest_yesterday": "Yesterday ({day}): SIPAS {sipas} (n={n})",
        "digest_mtd": "Month to date: SIPAS {sipas} (n={n})",
        "digest_on_time": "On-time rate, month to date: {rate}",
        "digest_overdue": "Cases overdue now: {count}",
        "digest_best": "Best procedure: {procedure}",
        "digest_worst": "Procedure to improve: {procedure}",
        "digest_chart": "SIPAS, last 30 days — {agency}",
        "no_data": "no data yet",
        "monthly_title": "🗓 Results for {month} — {agency}",
        "monthly_body": "SIPAS: {sipas} (responses: {responses})\nCases received: {cases}\n"
        "On-time rate: {on_time_rate}\nReturned late: {late}\nOverdue now: {overdue_open}",
        "below_title": "📉 SIPAS below threshold — {agency}",
        "below_line": "Month to date: {sipas}% (threshold {threshold}%, n={n})",
    },
}


def head_text(language: str, key: str, **params: object) -> str:
    table = HEAD.get(language, HEAD[VI])
    template = table.get(key) or HEAD[VI][key]
    return template.format(**params) if params else template
