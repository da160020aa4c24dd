"""The Vietnamese catalog: every text a citizen, head or admin reads, by namespaced key.

Keys are `<namespace>.<name>`: `chat.*` for citizens, `head.*` for alerts and roles,
`admin.*` for the admin commands, `report.*` for the heads' commands, `editor.*` for the
questionnaire editor, then buttons, labels, case statuses, timeliness and the web case page.
A key ending in `.typed` is the variant for a channel without buttons: it tells the citizen to
type a number or a word instead of pressing. This catalog is the reference: every key exists
here, and the English catalog has the same keys (tests/unit/test_texts.py).
"""

from __future__ import annotations

from typing import Final

# How an admin writes the options of a choice question (quoted in several messages).
_OPTIONS_FORMAT: Final = (
    "Mỗi dòng một phương án: MÃ = Tiếng Việt | English\n"
    "Ví dụ:\nA1 = Chờ lâu | Long wait\nA2 = Thiếu hướng dẫn | No guidance"
)

CATALOG: Final[dict[str, str]] = {
    # What a citizen reads in the chat.
    "chat.welcome": (
        "Xin chào! Đây là kênh lấy ý kiến người dân về sự phục vụ của cơ quan hành chính.\n"
        "Để theo dõi hồ sơ, Ông/Bà hãy quét mã QR trên phiếu hẹn, hoặc bấm nút bên dưới để "
        "chia sẻ số điện thoại đã khai khi nộp hồ sơ."
    ),
    "chat.welcome.typed": (
        "Xin chào! Đây là kênh lấy ý kiến người dân về sự phục vụ của cơ quan hành chính.\n"
        "Để theo dõi hồ sơ, Ông/Bà hãy quét mã QR trên phiếu hẹn để mở trang tra cứu hồ sơ, "
        "rồi gửi mã liên kết ghi trên trang đó vào cuộc trò chuyện này."
    ),
    "chat.linked": (
        "✅ Đã liên kết hồ sơ {code} — {procedure}.\n"
        "Ông/Bà sẽ nhận thông báo khi hồ sơ thay đổi trạng thái và được mời đánh giá khi "
        "nhận kết quả."
    ),
    "chat.already_linked": "Hồ sơ {code} đã được liên kết với cuộc trò chuyện này.",
    "chat.link_taken": (
        "Hồ sơ này đã được liên kết với một tài khoản khác. Nếu đây là hồ sơ của Ông/Bà, vui "
        "lòng liên hệ Bộ phận Một cửa."
    ),
    "chat.link_unknown": (
        "Mã liên kết không đúng hoặc đã hết hạn. Vui lòng quét lại mã QR trên phiếu hẹn."
    ),
    "chat.link_code_unknown": (
        "Mã liên kết này không đúng. Ông/Bà vui lòng kiểm tra lại mã gồm 8 ký tự in trên "
        "phiếu hẹn (ví dụ ABCD-EFGH) rồi gửi lại."
    ),
    "chat.link_code_wait": (
        "Ông/Bà đã gửi sai mã liên kết nhiều lần. Vui lòng chờ {minutes} phút rồi thử lại."
    ),
    "chat.link_expired": "Đợt khảo sát của hồ sơ {code} đã kết thúc. Cảm ơn Ông/Bà.",
    "chat.contact_not_own": (
        "Vui lòng chỉ chia sẻ số điện thoại của chính Ông/Bà bằng nút bên dưới."
    ),
    "chat.contact_not_own.typed": "Vui lòng chỉ chia sẻ số điện thoại của chính Ông/Bà.",
    "chat.contact_linked": "✅ Đã liên kết {count} hồ sơ: {codes}.",
    "chat.contact_none": "Chưa tìm thấy hồ sơ nào mang số điện thoại này.",
    "chat.contact_private": (
        "Để bảo vệ thông tin cá nhân, Ông/Bà vui lòng chia sẻ số điện thoại trong cuộc trò "
        "chuyện riêng với bot, không chia sẻ trong nhóm."
    ),
    "chat.link_moved": (
        "Hồ sơ {code} đã được chuyển sang tài khoản đã xác nhận số điện thoại của người nộp "
        "hồ sơ. Cuộc trò chuyện này sẽ không nhận thêm thông báo hay khảo sát về hồ sơ này. "
        "Nếu có nhầm lẫn, vui lòng liên hệ Bộ phận Một cửa."
    ),
    "chat.flood": "Ông/Bà gửi tin nhắn quá nhanh. Vui lòng chờ một phút rồi thử lại.",
    "chat.invite": (
        "Hồ sơ {code} ({procedure}) đã có kết quả. Mời Ông/Bà dành khoảng 1 phút đánh giá sự "
        "phục vụ. Ý kiến của Ông/Bà được giữ kín."
    ),
    "chat.reminder": (
        "Nhắc nhẹ: Ông/Bà chưa hoàn thành khảo sát về hồ sơ {code}. Mời Ông/Bà tiếp tục:"
    ),
    "chat.question": "Câu {number}/{total}: {text}",
    "chat.hint_text": "(Nhập góp ý và gửi, hoặc bấm “Bỏ qua”.)",
    "chat.hint_text.typed": "(Nhập góp ý và gửi, hoặc gõ “Bỏ qua”.)",
    "chat.hint_multi": "(Chọn tối đa {max} mục, rồi bấm “Xong”.)",
    "chat.hint_multi.typed": "(Gõ số của từng mục muốn chọn, tối đa {max} mục, rồi gõ “Xong”.)",
    "chat.answered": "✔ {choice}",
    "chat.skipped": "— đã bỏ qua",
    "chat.answer_noted": "✔ Đã ghi nhận câu {number}: {choice}",
    "chat.answer_noted_plain": "✔ Đã ghi nhận câu {number}.",
    "chat.share_phone_ask": (
        "Để nhận thông báo và phiếu đánh giá về hồ sơ của mình, Ông/Bà có thể chia sẻ số điện "
        "thoại đã khai khi nộp hồ sơ, hoặc gửi mã liên kết in trên giấy tiếp nhận."
    ),
    "chat.share_phone_note": (
        "Số điện thoại giúp tìm các hồ sơ Ông/Bà đã nộp để gửi thông báo và phiếu đánh giá. "
        "Hoặc gửi mã liên kết in trên giấy tiếp nhận."
    ),
    "chat.thanks": (
        "🙏 Cảm ơn Ông/Bà đã hoàn thành khảo sát! Ý kiến của Ông/Bà giúp cơ quan phục vụ "
        "người dân tốt hơn."
    ),
    "chat.already_answered": "Câu hỏi này đã được trả lời.",
    "chat.survey_closed": "Khảo sát này đã kết thúc.",
    "chat.survey_answered": "Hồ sơ này đã được đánh giá rồi. Cảm ơn Ông/Bà!",
    "chat.required": "Câu hỏi này cần được trả lời.",
    "chat.pick_one": "Vui lòng chọn ít nhất một mục.",
    "chat.picks": (
        "Đã chọn: {picks}.\nBấm thêm mục khác (bấm lại để bỏ chọn), rồi bấm “Xong” để hoàn tất."
    ),
    "chat.picks.typed": (
        "Đã chọn: {picks}.\nGõ số của mục khác để chọn thêm (gõ lại số đó để bỏ chọn), rồi gõ "
        "“Xong” để hoàn tất."
    ),
    "chat.picks_none": "Chưa chọn mục nào. Bấm các mục muốn chọn, rồi bấm “Xong”.",
    "chat.picks_none.typed": "Chưa chọn mục nào. Gõ số của các mục muốn chọn, rồi gõ “Xong”.",
    "chat.pick_range": "Vui lòng gõ một số từ 1 đến {count}.",
    "chat.stale_button": "Nút này không còn dùng được.",
    "chat.stale_button.typed": "Lựa chọn này không còn dùng được.",
    "chat.use_buttons": "Vui lòng trả lời bằng các nút bên dưới câu hỏi.",
    "chat.use_buttons.typed": (
        "Vui lòng trả lời bằng cách gõ số hoặc nội dung của một phương án trong câu hỏi."
    ),
    "chat.too_long": "Góp ý tối đa 1000 ký tự, Ông/Bà vui lòng rút gọn.",
    "chat.empty": "Vui lòng nhập nội dung góp ý, hoặc bấm “Bỏ qua”.",
    "chat.empty.typed": "Vui lòng nhập nội dung góp ý, hoặc gõ “Bỏ qua”.",
    "chat.media": "Xin lỗi, bot chỉ nhận câu trả lời bằng nút bấm hoặc tin nhắn chữ.",
    "chat.media.typed": "Xin lỗi, bot chỉ nhận câu trả lời bằng tin nhắn chữ.",
    "chat.no_survey": "Hiện Ông/Bà chưa có khảo sát nào đang mở. Gõ /help để xem hướng dẫn.",
    "chat.stopped": "Đã dừng mọi tin nhắn từ bot tới Ông/Bà. Khi muốn nhận lại, hãy gõ /start.",
    "chat.help": (
        "Bot gửi thông báo về hồ sơ và mời Ông/Bà đánh giá sự phục vụ khi nhận kết quả.\n"
        "/start — bắt đầu, liên kết hồ sơ\n"
        "/status <mã hồ sơ> — xem tình trạng hồ sơ\n"
        "/language vi|en — đổi ngôn ngữ\n"
        "/stop — dừng nhận tin nhắn\n"
        "/help — hướng dẫn"
    ),
    "chat.language_set": "Đã chuyển sang tiếng Việt.",
    "chat.language_usage": "Cách dùng: /language vi hoặc /language en",
    "chat.status_usage": "Cách dùng: /status <mã hồ sơ>. Hồ sơ đã liên kết: {codes}",
    "chat.status_none_linked": "Cách dùng: /status <mã hồ sơ>. Ông/Bà chưa liên kết hồ sơ nào.",
    "chat.status_not_linked": "Không có hồ sơ {code} trong các hồ sơ đã liên kết với Ông/Bà.",
    "chat.status": (
        "Hồ sơ {code}\n"
        "Thủ tục: {procedure}\n"
        "Trạng thái: {status}\n"
        "Ngày tiếp nhận: {received}\n"
        "Ngày hẹn trả: {due}\n"
        "Tiến độ: {timeliness}"
    ),
    "chat.no_date": "chưa có",
    "chat.busy": "Hệ thống đang bận, Ông/Bà vui lòng thử lại sau ít phút.",
    "chat.notice_2": "Hồ sơ {code} ({procedure}) đã được tiếp nhận. Ngày hẹn trả kết quả: {due}.",
    "chat.notice_5": (
        "Hồ sơ {code} ({procedure}) cần bổ sung giấy tờ. Vui lòng liên hệ Bộ phận Một cửa để "
        "được hướng dẫn."
    ),
    "chat.notice_6": (
        "Hồ sơ {code} ({procedure}): Ông/Bà cần thực hiện nghĩa vụ tài chính (phí, lệ phí, "
        "thuế) để hồ sơ được tiếp tục giải quyết."
    ),
    "chat.notice_9": (
        "Hồ sơ {code} ({procedure}) đã có kết quả. Mời Ông/Bà đến nhận kết quả theo hẹn."
    ),
    "chat.notice_10": "Hồ sơ {code} ({procedure}) đã được trả kết quả.",
    "chat.apology": (
        "THƯ XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ\n"
        "Kính gửi Ông/Bà {name},\n"
        "{agency} chân thành xin lỗi vì hồ sơ {code} ({procedure}), tiếp nhận ngày "
        "{received}, chưa có kết quả đúng hẹn ngày {old_due}.\n"
        "Lý do: {reason}\n"
        "Đơn vị giải quyết: {unit}\n"
        "Ngày hẹn trả kết quả mới: {new_due}, tại {place}.\n"
        "Mong Ông/Bà thông cảm."
    ),
    "chat.apology_no_reason": "cần thêm thời gian xử lý",
    "chat.apology_place": "Bộ phận Một cửa nơi nộp hồ sơ",
    "chat.citizen": "công dân",
    # What an agency head, an inspector or a new admin reads: roles, alerts, digests.
    "head.role_head": (
        "✅ Ông/Bà đã được xác nhận là thủ trưởng {agency}. Bot sẽ gửi cảnh báo về hồ sơ trễ "
        "hạn và ý kiến chưa hài lòng của người dân."
    ),
    "head.role_inspector": (
        "✅ Ông/Bà đã được xác nhận là thanh tra. Bot sẽ chuyển các phản ánh về đòi tiền "
        "ngoài quy định và nhũng nhiễu."
    ),
    "head.role_admin": "✅ Ông/Bà đã được cấp quyền quản trị SIPAS Bot.",
    "head.zalo_oa_token_dead": (
        "⚠️ Kênh Zalo OA đã dừng: Zalo từ chối làm mới mã truy cập (refresh token không còn "
        "hiệu lực). Hãy cấp lại ZALO_OA_ACCESS_TOKEN và ZALO_OA_REFRESH_TOKEN rồi khởi động lại "
        "dịch vụ. Trong lúc này không có tin nào được gửi qua Zalo OA."
    ),
    "head.invite_unknown": "Lời mời không đúng. Vui lòng xin lời mời mới từ quản trị viên.",
    "head.invite_used": "Lời mời này đã được sử dụng. Mỗi lời mời chỉ dùng được một lần.",
    "head.invite_expired": "Lời mời đã hết hạn (72 giờ). Vui lòng xin lời mời mới.",
    "head.low_title": "⚠️ Ý kiến chưa hài lòng — {agency}",
    "head.case": "Hồ sơ: {code}",
    "head.procedure": "Thủ tục: {procedure}",
    "head.officer": "Công chức: {officer}",
    "head.low_items": "Đánh giá thấp: {items}",
    "head.reasons": "Lý do: {reasons}",
    "head.comment": "Góp ý: {comment}",
    "head.money": "‼️ Phản ánh: bị yêu cầu nộp tiền ngoài quy định",
    "head.harass": "‼️ Phản ánh: bị nhũng nhiễu, gây phiền hà",
    "head.late_title": "⏰ Hồ sơ cần chú ý — {agency}",
    "head.overdue": "Quá hạn:",
    "head.due_soon": "Đến hạn trong 1 ngày làm việc:",
    "head.late_no_apology": "Trả trễ hẹn, chưa có thư xin lỗi:",
    "head.late_line": "• {code} — {procedure} — hẹn {due}",
    "head.escalated": "⬆️ Chưa được tiếp nhận sau 8 giờ làm việc, chuyển lên cấp trên:",
    "head.ack": "Đã tiếp nhận",
    "head.done": "Đã xử lý",
    "head.acked": "Đã ghi nhận: đã tiếp nhận.",
    "head.already_acked": "Cảnh báo này đã được tiếp nhận trước đó.",
    "head.already_handled": "Cảnh báo này đã được xử lý.",
    "head.ask_note": "Vui lòng nhập ghi chú ngắn về cách đã xử lý cảnh báo #{id}.",
    "head.handled": "Đã ghi nhận xử lý cảnh báo #{id}. Cảm ơn Ông/Bà!",
    "head.not_yours": "Ông/Bà không có quyền với cảnh báo này.",
    "head.follow_up": (
        "Cơ quan đã xử lý phản ánh của Ông/Bà về hồ sơ {code}. Ông/Bà có hài lòng với cách "
        "xử lý không?"
    ),
    "head.follow_up_thanks": "Cảm ơn Ông/Bà đã phản hồi.",
    "head.none": "không có",
    "head.digest_title": "📊 Bản tin sáng — {agency}",
    "head.digest_yesterday": "Hôm qua ({day}): SIPAS {sipas} (n={n})",
    "head.digest_mtd": "Từ đầu tháng: SIPAS {sipas} (n={n})",
    "head.digest_on_time": "Tỷ lệ đúng hạn từ đầu tháng: {rate}",
    "head.digest_overdue": "Hồ sơ đang quá hạn: {count}",
    "head.digest_best": "Thủ tục tốt nhất: {procedure}",
    "head.digest_worst": "Thủ tục cần cải thiện: {procedure}",
    "head.digest_chart": "SIPAS 30 ngày — {agency}",
    "head.no_data": "chưa có dữ liệu",
    "head.monthly_title": "🗓 Kết quả tháng {month} — {agency}",
    "head.monthly_body": (
        "SIPAS: {sipas} (số phiếu: {responses})\n"
        "Hồ sơ tiếp nhận: {cases}\n"
        "Tỷ lệ đúng hạn: {on_time_rate}\n"
        "Trả trễ hạn: {late}\n"
        "Đang quá hạn: {overdue_open}"
    ),
    "head.monthly_zns": "Tin ZNS đã gửi trong tháng (cơ quan trả phí): {count}",
    "head.monthly_oa": "Tin trả lời Zalo OA tính phí trong tháng (sau 48 giờ): {count}",
    "head.below_title": "📉 SIPAS dưới ngưỡng — {agency}",
    "head.below_line": "Từ đầu tháng: {sipas}% (ngưỡng {threshold}%, n={n})",
    # What admins (and anyone refused) read from the dispatcher and the admin commands.
    "admin.refused": "Xin lỗi, bạn không dùng được lệnh này.",
    "admin.refused_press": "Xin lỗi, bạn không dùng được nút này.",
    "admin.refused_press.typed": "Xin lỗi, bạn không dùng được lựa chọn này.",
    "admin.flood": "Bạn gửi lệnh quá nhanh. Vui lòng chờ một phút rồi thử lại.",
    "admin.cancelled": "Đã hủy thao tác đang làm.",
    "admin.nothing_to_cancel": "Không có thao tác nào đang làm.",
    "admin.failed": "Xin lỗi, hệ thống đang bận. Vui lòng thử lại sau ít phút.",
    "admin.help_title": "Các lệnh dành cho bạn:",
    "admin.help_cancel": "Hủy thao tác đang làm",
    "admin.gone_button": "Nút này không còn dùng được.",
    "admin.gone_button.typed": "Lựa chọn này không còn dùng được.",
    "admin.menu_start": "Bắt đầu, liên kết hồ sơ",
    "admin.menu_help": "Hướng dẫn",
    "admin.menu_stop": "Dừng nhận tin nhắn",
    "admin.menu_language": "Đổi ngôn ngữ (vi/en)",
    "admin.menu_status": "Xem tình trạng hồ sơ",
    "admin.h_invite": "Mời: /invite head <MaCoQuan> | inspector | admin",
    "admin.h_people": "Danh sách thủ trưởng, thanh tra, quản trị",
    "admin.h_revoke": "Thu hồi quyền: /thuhoi head <MaCoQuan> <id> | inspector <id> | admin <id>",
    "admin.h_agencies": "Cây cơ quan, ngưỡng cảnh báo, cỡ mẫu tối thiểu",
    "admin.h_rename": "Đổi tên cơ quan: /coquan_ten <MaCoQuan> <tên mới>",
    "admin.h_parent": "Đổi cơ quan cấp trên: /coquan_cha <MaCoQuan> <MaCoQuanCha|->",
    "admin.h_threshold": "Ngưỡng cảnh báo SIPAS (%): /nguong <MaCoQuan> <0-100|->",
    "admin.h_min_sample": "Cỡ mẫu tối thiểu: /comau <MaCoQuan> <số|->",
    "admin.h_zns": "Cách mời khảo sát qua ZNS: /coquan_zns <MaCoQuan> <sao|web|->",
    "admin.h_settings": "Xem/đổi cài đặt: /caidat [khóa giá trị]",
    "admin.h_audit": "Nhật ký thay đổi (20 dòng mới nhất)",
    "admin.invite_usage": (
        "Cách dùng: /invite head <MaCoQuan>, /invite inspector hoặc /invite admin."
    ),
    "admin.invite_unknown_agency": "Không có cơ quan mã {code}.",
    "admin.invite_link": (
        "Liên kết mời {role} (dùng một lần, hết hạn sau 72 giờ):\n"
        "{link}\n"
        "Gửi liên kết này cho người được mời; họ bấm vào và chọn Bắt đầu."
    ),
    "admin.invite_link.typed": (
        "Liên kết mời {role} (dùng một lần, hết hạn sau 72 giờ):\n"
        "{link}\n"
        "Gửi liên kết này cho người được mời; họ mở liên kết và làm theo hướng dẫn."
    ),
    "admin.invite_code": (
        "Trên {channels}: người được mời ({role}) gửi mã sau tới tài khoản Zalo của cơ quan "
        "(dùng một lần, hết hạn sau 72 giờ):\n{code}"
    ),
    "admin.invite_no_username": (
        "\n(Bot chưa biết tên người dùng của mình: thay <bot> bằng tên bot.)"
    ),
    "admin.role_head": "thủ trưởng {agency}",
    "admin.role_inspector": "thanh tra",
    "admin.role_admin": "quản trị",
    "admin.people_title": "Người có quyền:",
    "admin.people_admins": "Quản trị:",
    "admin.people_env": "{who} (cấu hình hệ thống)",
    "admin.people_inspectors": "Thanh tra:",
    "admin.people_heads": "Thủ trưởng theo cơ quan:",
    "admin.people_none": "(chưa có)",
    "admin.revoke_usage": (
        "Cách dùng: /thuhoi head <MaCoQuan> <id>, /thuhoi inspector <id> hoặc /thuhoi admin "
        "<id> (id như trong /nguoi, ví dụ 12345)."
    ),
    "admin.revoke_env": (
        "Quyền này được cấu hình trong hệ thống (biến môi trường), không thu hồi qua bot được."
    ),
    "admin.revoke_none": "Không tìm thấy quyền này để thu hồi.",
    "admin.revoked": (
        "Đã thu hồi quyền {role} của {who}. Có hiệu lực từ tin nhắn tiếp theo của họ."
    ),
    "admin.agencies_title": "Cây cơ quan (mã — tên; ngưỡng %, cỡ mẫu):",
    "admin.agencies_none": "Chưa có cơ quan nào.",
    "admin.agency_line": "{indent}{code} — {name}{extra}",
    "admin.agency_extra": " [ngưỡng {threshold}, mẫu {sample}]",
    "admin.default": "mặc định",
    "admin.agency_unknown": "Không có cơ quan mã {code}.",
    "admin.rename_usage": "Cách dùng: /coquan_ten <MaCoQuan> <tên mới>",
    "admin.renamed": "Đã đổi tên {code}: {before} → {after}",
    "admin.parent_usage": (
        "Cách dùng: /coquan_cha <MaCoQuan> <MaCoQuanCha> (hoặc - để bỏ cấp trên)"
    ),
    "admin.parent_cycle": (
        "Không đặt được: {parent} là chính {code} hoặc là cơ quan cấp dưới của nó."
    ),
    "admin.parent_set": "Đã đặt cơ quan cấp trên của {code}: {before} → {after}",
    "admin.threshold_usage": (
        "Cách dùng: /nguong <MaCoQuan> <số từ 0 đến 100> (hoặc - để dùng mặc định)"
    ),
    "admin.threshold_set": "Đã đặt ngưỡng cảnh báo của {code}: {before} → {after}",
    "admin.sample_usage": (
        "Cách dùng: /comau <MaCoQuan> <số nguyên từ 1 đến 10000> (hoặc - để dùng mặc định)"
    ),
    "admin.sample_set": "Đã đặt cỡ mẫu tối thiểu của {code}: {before} → {after}",
    "admin.zns_usage": (
        "Cách dùng: /coquan_zns <MaCoQuan> sao (người dân chấm sao ngay trong tin nhắn ZNS), "
        "web (tin nhắn ZNS mời làm phiếu khảo sát đầy đủ trên web), hoặc - để theo cơ quan "
        "cấp trên"
    ),
    "admin.zns_set": "Đã đặt cách mời khảo sát qua ZNS của {code}: {before} → {after}",
    "admin.zns_rating": "chấm sao",
    "admin.zns_invite": "phiếu khảo sát trên web",
    "admin.zns_inherit": "theo cấp trên",
    "admin.zns_no_template": (
        "Lưu ý: hệ thống chưa cấu hình mẫu ZNS cho cách «{choice}» (biến cấu hình "
        "ZALO_ZNS_TEMPLATES), nên tạm dùng mẫu còn lại cho đến khi mẫu này được cấu hình."
    ),
    "admin.zns_off": (
        "Lưu ý: ZNS chưa được cấu hình (biến cấu hình ZALO_ZNS_TEMPLATES), nên chưa có tin "
        "nhắn ZNS nào được gửi."
    ),
    "admin.agency_zns": " [ZNS: {zns}]",
    "admin.none": "(không)",
    "admin.settings_title": "Cài đặt hiện hành (đổi bằng /caidat <khóa> <giá trị>):",
    "admin.settings_line": "{key} = {value} — {label}{changed}",
    "admin.settings_changed": " (đã đổi qua bot)",
    "admin.s_reminder": "nhắc lại sau (giờ, 1–720)",
    "admin.s_expiry": "phiếu hết hạn sau (ngày, 1–90)",
    "admin.s_quiet": "giờ yên lặng (HH:MM-HH:MM hoặc - để tắt)",
    "admin.s_status": "gửi khảo sát ở trạng thái hồ sơ (9 hoặc 10)",
    "admin.s_escalation": "chuyển cấp trên sau (giờ làm việc, 1–168)",
    "admin.settings_usage": "Khóa không hợp lệ. Các khóa: {keys}.",
    "admin.settings_bad_value": "Giá trị không hợp lệ cho {key}: cần {label}.",
    "admin.settings_set": "Đã đổi {key}: {before} → {after}. Có hiệu lực ngay.",
    "admin.settings_off": "tắt",
    "admin.audit_title": "Nhật ký thay đổi (mới nhất trước):",
    "admin.audit_refusals_title": "Các lần bị từ chối (mới nhất trước):",
    "admin.audit_none": "Nhật ký chưa có gì.",
    "admin.audit_line": "{at} · {who} · {action} {target}: {before} → {after}",
    "admin.audit_usage": "Cách dùng: /audit (thay đổi) hoặc /audit tuchoi (các lần bị từ chối).",
    # What heads read from /report, /late, /alerts and /mute.
    "report.report_usage": (
        "Cú pháp: /report [thang|quy|nam|YYYY-MM]. Ví dụ: /report 2026-10. Không ghi kỳ: từ "
        "đầu tháng đến nay."
    ),
    "report.bad_period": (
        "Không hiểu kỳ báo cáo «{arg}». Hãy dùng thang, quy, nam hoặc YYYY-MM (ví dụ /report "
        "2026-10)."
    ),
    "report.future_period": "Tháng {month} chưa bắt đầu, chưa có số liệu.",
    "report.too_old": "Chỉ xem được báo cáo từ năm 2000 trở đi.",
    "report.need_agency": (
        "Ông/Bà không phụ trách cơ quan nào. Quản trị viên hãy ghi thêm mã cơ quan, ví dụ: "
        "/{command} 000.00.01.H12"
    ),
    "report.too_many_args": "Lệnh có quá nhiều tham số. {usage}",
    "report.report_title": "📊 Báo cáo SIPAS — {agency}",
    "report.period": "Kỳ: {start} – {end}",
    "report.sipas": "SIPAS: {value}% (n={n} phiếu; khoảng tin cậy 95%: {low}–{high}%)",
    "report.sipas_small": "SIPAS: chưa đủ mẫu để công bố (mới có {n} phiếu, cần ít nhất {min}).",
    "report.sipas_partial": "SIPAS: chưa tính được vì có yếu tố chưa có ý kiến (n={n} phiếu).",
    "report.sipas_none": "SIPAS: chưa có ý kiến nào trong kỳ.",
    "report.factors": "Theo yếu tố:",
    "report.factor": "• {name}: {value}% (n={n})",
    "report.factor_small": "• {name}: chưa đủ mẫu (n={n})",
    "report.factor_none": "• {name}: chưa có ý kiến",
    "report.on_time": "Giải quyết đúng hạn: {rate}% ({good}/{ended} hồ sơ đã kết thúc)",
    "report.on_time_none": "Giải quyết đúng hạn: chưa có hồ sơ kết thúc trong kỳ.",
    "report.overdue": "Hồ sơ đang quá hạn: {count}",
    "report.qd766": "Mức độ hài lòng theo QĐ 766: {pct}% (điểm {score}/100)",
    "report.response_rate": "Tỷ lệ trả lời khảo sát: {rate}% ({completed}/{invited} phiếu mời)",
    "report.worst": "Thủ tục cần cải thiện:",
    "report.worst_line": "• {name}: {value}% (n={n})",
    "report.worst_none": "Thủ tục cần cải thiện: chưa có thủ tục nào đủ mẫu.",
    "report.expectations": "Người dân mong muốn cải thiện nhất: {items}",
    "report.agencies": "Theo cơ quan:",
    "report.agency_line": "• {name}: {value}",
    "report.agency_value": "SIPAS {value}% (n={n})",
    "report.agency_small": "chưa đủ mẫu (n={n})",
    "report.agency_more": "… và {count} cơ quan khác",
    "report.channels_title": "Theo kênh:",
    "report.channels_line": "• {channel}: {rate}% ({completed}/{invited} phiếu mời)",
    "report.channels_zns": "Tin ZNS đã gửi (cơ quan trả phí):",
    "report.channels_oa": "Tin trả lời Zalo OA tính phí (sau 48 giờ):",
    "report.channels_paid_line": "• {month} — {agency}: {count} tin",
    "report.channels_more": "… và {count} dòng khác",
    "report.channels_name_telegram": "Telegram",
    "report.channels_name_zalo_oa": "Zalo OA",
    "report.channels_name_zalo_bot": "Zalo Bot",
    "report.channels_name_zns": "ZNS",
    "report.channels_name_web": "Trang web",
    "report.chart_caption": "Biểu đồ SIPAS theo yếu tố — {agency} ({start} – {end})",
    "report.chart_axis": "Chỉ số (%)",
    "report.chart_target": "Ngưỡng {value}%",
    "report.late_title": "⏰ Hồ sơ quá hạn và sắp đến hạn — {agency}",
    "report.late_overdue": "• {code} — {procedure} — hẹn trả {due} (quá hạn)",
    "report.late_soon": "• {code} — {procedure} — hẹn trả {due}",
    "report.late_none": "✅ Không có hồ sơ quá hạn hay đến hạn trong một ngày làm việc tới.",
    "report.late_more": "… và {count} hồ sơ khác.",
    "report.alerts_title": "🔔 Cảnh báo chưa xử lý: {count}",
    "report.alerts_none": "✅ Không có cảnh báo nào đang mở.",
    "report.alerts_more": (
        "… và {count} cảnh báo khác; xử lý xong các cảnh báo trên rồi gõ /alerts để xem tiếp."
    ),
    "report.mute_usage": (
        "Cú pháp: /mute <số giờ từ 1 đến {max}>, ví dụ /mute 4. Gõ /mute 0 để bật lại cảnh "
        "báo ngay."
    ),
    "report.mute_bad": (
        "«{arg}» không phải số giờ hợp lệ: hãy nhập một số nguyên từ 1 đến {max} (ví dụ "
        "/mute 4), hoặc /mute 0 để bật lại cảnh báo."
    ),
    "report.mute_set": (
        "🔕 Đã tạm hoãn cảnh báo thường đến {until}. Cảnh báo phát sinh trong thời gian này "
        "sẽ được gửi sau đó, không bị mất. Phản ánh bị đòi tiền hoặc bị gây phiền hà vẫn "
        "được gửi ngay."
    ),
    "report.mute_off": "🔔 Đã bật lại cảnh báo; các cảnh báo đang chờ sẽ được gửi ngay.",
    "report.mute_not_on": "Cảnh báo đang bật, không có gì để bật lại.",
    "report.mute_status": "🔕 Cảnh báo thường đang được tạm hoãn đến {until}.",
    "report.no_data": "chưa có",
    # Help lines of the heads' commands.
    "report.help.report": "Báo cáo SIPAS của cơ quan: /report [thang|quy|nam|YYYY-MM]",
    "report.help.late": "Hồ sơ quá hạn và sắp đến hạn",
    "report.help.alerts": "Cảnh báo đang mở",
    "report.help.mute": "Tạm hoãn cảnh báo thường: /mute <số giờ>",
    # The five SIPAS factors.
    "factor.1": "Tiếp cận dịch vụ",
    "factor.2": "Thủ tục hành chính",
    "factor.3": "Công chức",
    "factor.4": "Kết quả",
    "factor.5": "Phản ánh, kiến nghị",
    # What admins read while shaping the questionnaire.
    "editor.active_header": "📋 Phiên bản đang dùng: số {version} ({base}), {count} câu hỏi.",
    "editor.no_active": "Chưa có bộ câu hỏi nào đang dùng.",
    "editor.draft_header": "📝 Bản nháp ({base}), {count} câu hỏi:",
    "editor.no_draft": (
        "Chưa có bản nháp. Lần sửa đầu tiên sẽ tạo bản nháp từ phiên bản đang dùng."
    ),
    "editor.active_list": "Các câu hỏi của phiên bản đang dùng:",
    "editor.question_line": ("{position}. {code} · {kind}{factor} · {required}\n   {text}"),
    "editor.factor": " · yếu tố {factor}",
    "editor.required": "bắt buộc",
    "editor.optional": "không bắt buộc",
    "editor.branch": "hỏi sau điểm thấp yếu tố {factor}",
    "editor.diff_added": "➕ Thêm: {codes}",
    "editor.diff_removed": "➖ Bỏ: {codes}",
    "editor.diff_changed": "✏️ Sửa: {codes}",
    "editor.diff_moved": "↕️ Đổi thứ tự câu hỏi",
    "editor.diff_none": "Bản nháp chưa khác phiên bản đang dùng.",
    "editor.list_hint": "Xem thử: /preview · Ban hành: /publish · Hủy nháp: /discard",
    "editor.edited": ("✅ Đã sửa câu {code} trong bản nháp:\n{changes}"),
    "editor.change_line": "• {field}: {before} → {after}",
    "editor.added": (
        "✅ Đã thêm câu {code} vào cuối bản nháp (vị trí {position}). Đổi vị trí: /q_thutu "
        "{code} <vị trí>"
    ),
    "editor.removed": "✅ Đã xóa câu {code} khỏi bản nháp.",
    "editor.moved": "✅ Câu {code}: vị trí {before} → {after}.",
    "editor.rebased": (
        "✅ Bản nháp nay là {base} ({count} câu hỏi). Những sửa đổi trước trên bản nháp đã "
        "được thay thế."
    ),
    "editor.published": (
        "✅ Đã ban hành phiên bản số {version}. Lời mời khảo sát từ bây giờ dùng phiên bản "
        "này; các khảo sát đang làm dở vẫn giữ phiên bản cũ."
    ),
    "editor.nothing_to_publish": "Chưa có bản nháp để ban hành. Hãy sửa câu hỏi trước.",
    "editor.discarded": "✅ Đã hủy bản nháp. Phiên bản đang dùng không thay đổi.",
    "editor.nothing_to_discard": "Không có bản nháp nào để hủy.",
    "editor.no_form": "Chưa có bộ câu hỏi nào trong hệ thống; hãy khởi động lại dịch vụ.",
    "editor.busy": "Hệ thống đang bận, vui lòng thử lại sau ít phút.",
    "editor.q_move_usage": "Cách dùng: /q_thutu <mã> <vị trí>, ví dụ: /q_thutu COMMENT 1",
    "editor.q_base_usage": (
        "Cách dùng: /q_mau rutgon (mẫu rút gọn) hoặc /q_mau daydu (mẫu SIPAS đầy đủ 19 tiêu chí)."
    ),
    "editor.ask_code": "Câu hỏi nào? Gửi mã câu hỏi ({codes}). Gửi /cancel để thôi.",
    "editor.ask_new_vi": ("Câu {code} hiện là:\n{text}\n\nGửi nội dung tiếng Việt mới."),
    "editor.ask_field": ("Sửa thuộc tính nào của câu {code}? Gửi một trong:\n{fields}"),
    "editor.ask_value": ("Câu {code}, {field}. Giá trị hiện tại: {current}\nGửi giá trị mới."),
    "editor.ask_new_code": (
        "Thêm câu hỏi mới. Gửi mã câu hỏi (chữ không dấu, số, '.' hoặc '_', tối đa 24 ký "
        "tự), ví dụ: F6. Gửi /cancel để thôi."
    ),
    "editor.ask_kind": ("Loại câu hỏi? Gửi số:\n{kinds}"),
    "editor.ask_topic": ("Chủ đề (dùng để tính điểm)? Gửi số:\n{topics}"),
    "editor.ask_factor": (
        "Thuộc yếu tố nào (1–5)?\n"
        "1 Tiếp cận dịch vụ · 2 Thủ tục hành chính · 3 Công chức · 4 Kết quả · 5 Phản ánh, "
        "kiến nghị"
    ),
    "editor.ask_text_vi": "Gửi nội dung câu hỏi bằng tiếng Việt.",
    "editor.ask_text_en": "Gửi nội dung câu hỏi bằng tiếng Anh.",
    "editor.ask_options": "Gửi các phương án trong một tin nhắn.\n" + _OPTIONS_FORMAT,
    "editor.ask_max": "Người dân được chọn tối đa bao nhiêu phương án (1–{count})?",
    "editor.ask_required": "Câu hỏi có bắt buộc trả lời không? Gửi: co hoặc khong.",
    "editor.ask_remove": "Xóa câu nào? Gửi mã câu hỏi ({codes}). Gửi /cancel để thôi.",
    "editor.try_again": ("{error}\nVui lòng gửi lại, hoặc /cancel để thôi."),
    "editor.bad_field": ("Không có thuộc tính “{value}”. Thuộc tính:\n{fields}"),
    "editor.bad_code": (
        "Mã “{code}” không hợp lệ: chỉ dùng chữ không dấu, số, '.' hoặc '_', tối đa 24 ký tự."
    ),
    "editor.unknown_code": "Bản nháp không có câu hỏi mã “{code}”. Xem danh sách: /cauhoi",
    "editor.code_taken": "Mã “{code}” đã có trong bộ câu hỏi; hãy chọn mã khác.",
    "editor.bad_kind": "Loại “{value}” không có. Loại: likert5, yes_no, choice, text.",
    "editor.bad_topic": "Chủ đề “{value}” không có hoặc không hợp với loại câu hỏi.",
    "editor.bad_factor": "Yếu tố phải là số từ 1 đến 5 (hoặc '-' nếu không thuộc yếu tố nào).",
    "editor.bad_required": "Hãy gửi “co” (bắt buộc) hoặc “khong” (không bắt buộc).",
    "editor.bad_max_value": "Số phương án tối đa phải là số từ 1 đến 10.",
    "editor.bad_max": "Câu {code}: số phương án được chọn tối đa phải từ 1 đến số phương án.",
    "editor.empty_text": "Nội dung không được để trống.",
    "editor.text_too_long": "Nội dung tối đa {limit} ký tự; vui lòng rút gọn.",
    "editor.need_options": (
        "Câu hỏi chọn phương án cần ít nhất hai phương án.\n" + _OPTIONS_FORMAT
    ),
    "editor.too_many_options": "Tối đa {limit} phương án.",
    "editor.bad_option": "Phương án “{value}” chưa đúng dạng.\n" + _OPTIONS_FORMAT,
    "editor.bad_option_code": "Mã phương án “{code}” không hợp lệ: 1–8 chữ không dấu hoặc số.",
    "editor.option_too_long": "Mỗi phương án tối đa {limit} ký tự (để vừa nút bấm).",
    "editor.option_too_long.typed": "Mỗi phương án tối đa {limit} ký tự.",
    "editor.option_twice": "Hai phương án trùng mã.",
    "editor.option_texts": "Câu {code}: mỗi phương án cần cả tiếng Việt và tiếng Anh.",
    "editor.options_only_choice": "Câu {code}: chỉ câu hỏi chọn phương án mới có phương án.",
    "editor.need_texts": "Câu {code} cần nội dung cả tiếng Việt và tiếng Anh.",
    "editor.bad_base": "Không có mẫu “{value}”. Mẫu có sẵn: rutgon, daydu.",
    "editor.topic_kind": "Câu {code}: chủ đề “{topic}” cần loại {kind}.",
    "editor.kind_needs_topic": (
        "Câu {code}: loại {kind} cần chọn chủ đề ({topics}), ví dụ: /q_sua {code} loai "
        "{kind} {first}"
    ),
    "editor.kind_needs_options": (
        "Câu {code}: loại choice cần các phương án. Gửi /q_sua không kèm gì để được hướng "
        "dẫn từng bước."
    ),
    "editor.factor_needed": "Câu {code} là tiêu chí hoặc lý do nên phải thuộc một yếu tố 1–5.",
    "editor.factor_unused": (
        "Câu {code} không phải tiêu chí hay lý do nên không thuộc yếu tố nào (gửi '-')."
    ),
    "editor.reason_branch": "Câu {code}: câu hỏi lý do chỉ được hỏi sau điểm thấp của yếu tố.",
    "editor.branch_no_likert": (
        "Câu {code} hỏi lý do sau điểm thấp, nhưng yếu tố đó không còn câu hỏi 5 mức nào. "
        "Hãy xóa câu lý do trước."
    ),
    "editor.branch_optional": "Câu {code} hỏi lý do nên không bắt buộc.",
    "editor.branch_choice": (
        "Câu {code}: câu hỏi lý do phải là câu chọn phương án trong đúng yếu tố của nó."
    ),
    "editor.need_likert": "Bộ câu hỏi cần ít nhất một câu hỏi 5 mức hài lòng.",
    "editor.bad_position": "Vị trí phải là số từ 1 đến {count}.",
    "editor.unchanged": "Câu {code} đã có đúng giá trị đó; không có gì thay đổi.",
    "editor.invalid": "Thay đổi này làm bộ câu hỏi không hợp lệ ({detail}).",
    "editor.preview_header": (
        "👁 XEM THỬ bản nháp — như người dân thấy; không ghi nhận câu trả lời nào. Gửi "
        "/cancel để dừng."
    ),
    "editor.preview_no_draft": "Chưa có bản nháp để xem thử. Sửa một câu hỏi để tạo bản nháp.",
    "editor.preview_stale": "Bản nháp đã thay đổi; gửi /preview để xem thử lại.",
    "editor.preview_done": (
        "👁 Hết bản xem thử. Không có câu trả lời nào được ghi nhận. Ban hành: /publish"
    ),
    "editor.preview_over": "Bản xem thử đã kết thúc.",
    # Question kinds.
    "editor.kind.likert5": "5 mức hài lòng",
    "editor.kind.yes_no": "Có/Không",
    "editor.kind.choice": "chọn phương án",
    "editor.kind.text": "tự nhập",
    # Question topics.
    "editor.topic.criterion": "tiêu chí SIPAS của một yếu tố",
    "editor.topic.overall": "hài lòng chung",
    "editor.topic.money_asked": "bị đòi thêm tiền",
    "editor.topic.harassment": "bị nhũng nhiễu, gây phiền hà",
    "editor.topic.on_time": "nhận kết quả đúng hẹn",
    "editor.topic.visits": "số lần đi lại",
    "editor.topic.expectations": "điều cần cải thiện",
    "editor.topic.reason": "lý do chưa hài lòng, hỏi sau điểm thấp",
    "editor.topic.suggestion": "góp ý",
    # Question fields, as /q_sua lists them.
    "editor.field.text_vi": "vi — nội dung tiếng Việt",
    "editor.field.text_en": "en — nội dung tiếng Anh",
    "editor.field.kind": "loai — loại câu hỏi",
    "editor.field.topic": "chude — chủ đề",
    "editor.field.factor": "nhom — yếu tố 1–5",
    "editor.field.required": "batbuoc — bắt buộc (co/khong)",
    "editor.field.options": "luachon — các phương án",
    "editor.field.max_choices": "toida — số phương án được chọn tối đa",
    # How a changed field reads in an edit confirmation.
    "editor.changed.text_vi": "nội dung tiếng Việt",
    "editor.changed.text_en": "nội dung tiếng Anh",
    "editor.changed.kind": "loại",
    "editor.changed.topic": "chủ đề",
    "editor.changed.factor": "yếu tố",
    "editor.changed.required": "bắt buộc",
    "editor.changed.options": "phương án",
    "editor.changed.max_choices": "số phương án chọn tối đa",
    "editor.changed.after_low_in_factor": "hỏi sau điểm thấp của yếu tố",
    "editor.changed.yes": "có",
    "editor.changed.no": "không",
    # Built-in forms.
    "editor.base.short": "mẫu rút gọn",
    "editor.base.full": "mẫu SIPAS đầy đủ (19 tiêu chí)",
    "editor.base.custom": "tự soạn",
    # Help lines of the questionnaire commands.
    "editor.help.list": "Xem bộ câu hỏi đang dùng và bản nháp",
    "editor.help.q_edit": "Sửa nội dung tiếng Việt: /q_edit <mã> <nội dung mới>",
    "editor.help.q_set": "Sửa một thuộc tính câu hỏi: /q_sua <mã> <thuộc tính> <giá trị>",
    "editor.help.q_add": "Thêm câu hỏi (hỏi từng bước)",
    "editor.help.q_remove": "Xóa câu hỏi khỏi bản nháp: /q_xoa <mã>",
    "editor.help.q_move": "Đổi thứ tự: /q_thutu <mã> <vị trí>",
    "editor.help.q_base": "Lấy mẫu có sẵn làm bản nháp: /q_mau rutgon|daydu",
    "editor.help.preview": "Xem thử bản nháp như người dân",
    "editor.help.publish": "Ban hành bản nháp thành phiên bản mới",
    "editor.help.discard": "Hủy bản nháp",
    # Button labels.
    "button.yes": "Có",
    "button.no": "Không",
    "button.skip": "Bỏ qua",
    "button.done": "Xong ✅",
    "button.contact": "📱 Chia sẻ số điện thoại",
    # The five Likert levels, in order; each button's text contains the contract's label.
    "likert.1": "Rất không hài lòng",
    "likert.2": "Không hài lòng",
    "likert.3": "Bình thường",
    "likert.4": "Hài lòng",
    "likert.5": "Rất hài lòng",
    # Case statuses as one-stop systems report them.
    "case_status.1": "Mới đăng ký",
    "case_status.2": "Được tiếp nhận",
    "case_status.3": "Không được tiếp nhận",
    "case_status.4": "Đang xử lý",
    "case_status.5": "Yêu cầu bổ sung giấy tờ",
    "case_status.6": "Yêu cầu thực hiện nghĩa vụ tài chính",
    "case_status.7": "Công dân yêu cầu rút hồ sơ",
    "case_status.8": "Dừng xử lý",
    "case_status.9": "Đã xử lý xong",
    "case_status.10": "Đã trả kết quả",
    # Timeliness of a case.
    "timeliness.open": "Đang trong hạn",
    "timeliness.overdue": "Quá hạn",
    "timeliness.early": "Trả trước hạn",
    "timeliness.on_time": "Trả đúng hạn",
    "timeliness.late": "Trả trễ hạn",
    # The web case page.
    "case_page.title": "Tra cứu hồ sơ",
    "case_page.case_code": "Mã hồ sơ",
    "case_page.procedure": "Thủ tục",
    "case_page.status": "Trạng thái",
    "case_page.received": "Ngày tiếp nhận",
    "case_page.promised": "Ngày hẹn trả",
    "case_page.timeliness": "Tiến độ",
    "case_page.telegram": "Nhận thông báo và khảo sát qua Telegram",
    "case_page.survey_later": (
        "Khi nhận kết quả, mời Ông/Bà cho ý kiến đánh giá về sự phục vụ. Ý kiến của Ông/Bà "
        "giúp cơ quan phục vụ tốt hơn."
    ),
    "case_page.not_found_title": "Không tìm thấy hồ sơ",
    "case_page.not_found": (
        "Đường dẫn không đúng hoặc đã hết hạn. Vui lòng kiểm tra lại phiếu hẹn."
    ),
    # The web survey behind the receipt's link (`/s/<token>`).
    "web.other_language": "English",
    "web.follow_title": "Nhận thông báo về hồ sơ",
    "web.zalo_oa": "Mở Zalo OA của cơ quan",
    "web.link_code_hint": (
        "Gửi mã liên kết dưới đây vào Zalo của cơ quan để nhận thông báo và lời mời đánh giá:"
    ),
    "web.survey_title": "Đánh giá sự phục vụ",
    "web.survey_intro": (
        "Hồ sơ {code} — {procedure}. Xin Ông/Bà cho biết mức độ hài lòng về sự phục vụ của "
        "cơ quan; phiếu chỉ mất khoảng 2 phút."
    ),
    "web.answered_elsewhere": (
        "Ông/Bà đã trả lời {count} câu trong cuộc trò chuyện; mời trả lời tiếp các câu còn lại."
    ),
    "web.required_note": "Câu có dấu * là câu bắt buộc.",
    "web.choose_up_to": "Chọn tối đa {max} mục.",
    "web.choose_one": "Chọn một mục phù hợp nhất.",
    "web.text_hint": "Tối đa {max} ký tự.",
    "web.send": "Gửi đánh giá",
    "web.why_step": (
        "Xin Ông/Bà cho biết thêm lý do chưa hài lòng (không bắt buộc), rồi gửi đánh giá."
    ),
    "web.missing": "Vui lòng trả lời câu hỏi này.",
    "web.missing_summary": (
        "Còn {count} câu bắt buộc chưa được trả lời; các câu đó được đánh dấu bên dưới. "
        "Chưa có gì được ghi nhận."
    ),
    "web.invalid_summary": (
        "Một số câu trả lời không hợp lệ nên chưa có gì được ghi nhận; vui lòng xem lại các "
        "câu được đánh dấu."
    ),
    "web.unknown_question": (
        "Phiếu gửi lên có câu hỏi không thuộc bộ câu hỏi này; vui lòng tải lại trang rồi gửi lại."
    ),
    "web.error_out_of_range": "Lựa chọn này không có trong câu hỏi.",
    "web.error_too_many": "Chỉ chọn tối đa {max} mục.",
    "web.error_too_long": "Nội dung dài quá {max} ký tự; vui lòng rút gọn.",
    "web.thanks_title": "Cảm ơn Ông/Bà",
    "web.thanks": (
        "Ý kiến đánh giá về hồ sơ {code} đã được ghi nhận. Cảm ơn Ông/Bà đã giúp cơ quan phục "
        "vụ tốt hơn."
    ),
    "web.already_answered": (
        "Hồ sơ {code} đã có ý kiến đánh giá nên phiếu vừa gửi không được ghi nhận thêm."
    ),
    "web.expired_title": "Khảo sát đã kết thúc",
    "web.expired": "Thời gian lấy ý kiến về hồ sơ {code} đã hết. Cảm ơn Ông/Bà đã quan tâm.",
    "web.closed": "Khảo sát về hồ sơ {code} đã dừng theo yêu cầu của Ông/Bà. Cảm ơn Ông/Bà.",
    "web.forbidden_title": "Không gửi được phiếu",
    "web.forbidden": (
        "Phiếu không hợp lệ hoặc đã cũ nên chưa có gì được ghi nhận. Vui lòng mở lại đường "
        "dẫn trên phiếu hẹn và trả lời lại."
    ),
    "web.bad_form_title": "Phiếu không đúng định dạng",
    "web.bad_form": (
        "Phiếu gửi lên không đọc được nên chưa có gì được ghi nhận. Vui lòng mở lại đường dẫn "
        "trên phiếu hẹn."
    ),
    "web.slow_down_title": "Quá nhiều yêu cầu",
    "web.slow_down": (
        "Có quá nhiều yêu cầu tới trang này trong một lúc. Vui lòng chờ một phút rồi thử lại."
    ),
    # The survey block printed on the one-stop receipt (`sipas receipt`).
    "receipt.title": "Đánh giá sự phục vụ",
    "receipt.scan": "Quét mã QR để theo dõi hồ sơ và đánh giá sự phục vụ.",
    "receipt.case_code": "Mã hồ sơ: {code}",
    "receipt.link_code": "Mã liên kết",
    "receipt.zalo": "Hoặc gửi mã {code} tới Zalo OA của cơ quan:",
    "receipt.telegram": "Hoặc nhận thông báo và khảo sát qua Telegram:",
    "receipt.web": "Hoặc mở đường dẫn:",
}
