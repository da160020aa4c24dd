"""What admins (and anyone refused) read from the dispatcher and the admin commands.

Vietnamese first, English second; `admin_text(language, key, **params)` falls back to
Vietnamese for an unknown language and to the key itself for an unknown key.
"""

from __future__ import annotations

from typing import Final

_VI: Final[dict[str, str]] = {
    # dispatcher
    "refused": "Xin lỗi, bạn không dùng được lệnh này.",
    "refused_press": "Xin lỗi, bạn không dùng được nút này.",
    "flood": "Bạn gửi lệnh quá nhanh. Vui lòng chờ một phút rồi thử lại.",
    "cancelled": "Đã hủy thao tác đang làm.",
    "nothing_to_cancel": "Không có thao tác nào đang làm.",
    "failed": "Xin lỗi, hệ thống đang bận. Vui lòng thử lại sau ít phút.",
    "help_title": "Các lệnh dành cho bạn:",
    "help_cancel": "Hủy thao tác đang làm",
    "gone_button": "Nút này không còn dùng được.",
    # everyone's menu
    "menu_start": "Bắt đầu, liên kết hồ sơ",
    "menu_help": "Hướng dẫn",
    "menu_stop": "Dừng nhận tin nhắn",
    "menu_language": "Đổi ngôn ngữ (vi/en)",
    "menu_status": "Xem tình trạng hồ sơ",
    # admin commands: help lines
    "h_invite": "Mời: /invite head <MaCoQuan> | inspector | admin",
    "h_people": "Danh sách thủ trưởng, thanh tra, quản trị",
    "h_revoke": "Thu hồi quyền: /thuhoi head <MaCoQuan> <id> | inspector <id> | admin <id>",
    "h_agencies": "Cây cơ quan, ngưỡng cảnh báo, cỡ mẫu tối thiểu",
    "h_rename": "Đổi tên cơ quan: /coquan_ten <MaCoQuan> <tên mới>",
    "h_parent": "Đổi cơ quan cấp trên: /coquan_cha <MaCoQuan> <MaCoQuanCha|->",
    "h_threshold": "Ngưỡng cảnh báo SIPAS (%): /nguong <MaCoQuan> <0-100|->",
    "h_min_sample": "Cỡ mẫu tối thiểu: /comau <MaCoQuan> <số|->",
    "h_settings": "Xem/đổi cài đặt: /caidat [khóa giá trị]",
    "h_audit": "Nhật ký thay đổi (20 dòng mới nhất)",
    # invites
    "invite_usage": "Cách dùng: /invite head <MaCoQuan>, /invite inspector hoặc /invite admin.",
    "invite_unknown_agency": "Không có cơ quan mã {code}.",
    "invite_link": (
        "Liên kết mời {role} (dùng một lần, hết hạn sau 72 giờ):\n{link}\n"
        "Gửi liên kết này cho người được mời; họ bấm vào và chọn Bắt đầu."
    ),
    "invite_no_username": "\n(Bot chưa biết tên người dùng của mình: thay <bot> bằng tên bot.)",
    "role_head": "thủ trưởng {agency}",
    "role_inspector": "thanh tra",
    "role_admin": "quản trị",
    # people
    "people_title": "Người có quyền:",
    "people_admins": "Quản trị:",
    "people_env": "{who} (cấu hình hệ thống)",
    "people_inspectors": "Thanh tra:",
    "people_heads": "Thủ trưởng theo cơ quan:",
    "people_none": "(chưa có)",
    "revoke_usage": (
        "Cách dùng: /thuhoi head <MaCoQuan> <id>, /thuhoi inspector <id> hoặc /thuhoi admin <id> "
        "(id như trong /nguoi, ví dụ 12345)."
    ),
    "revoke_env": (
        "Quyền này được cấu hình trong hệ thống (biến môi trường), không thu hồi qua bot được."
    ),
    "revoke_none": "Không tìm thấy quyền này để thu hồi.",
    "revoked": "Đã thu hồi quyền {role} của {who}. Có hiệu lực từ tin nhắn tiếp theo của họ.",
    # agencies
    "agencies_title": "Cây cơ quan (mã — tên; ngưỡng %, cỡ mẫu):",
    "agencies_none": "Chưa có cơ quan nào.",
    "agency_line": "{indent}{code} — {name}{extra}",
    "agency_extra": " [ngưỡng {threshold}, mẫu {sample}]",
    "default": "mặc định",
    "agency_unknown": "Không có cơ quan mã {code}.",
    "rename_usage": "Cách dùng: /coquan_ten <MaCoQuan> <tên mới>",
    "renamed": "Đã đổi tên {code}: {before} → {after}",
    "parent_usage": "Cách dùng: /coquan_cha <MaCoQuan> <MaCoQuanCha> (hoặc - để bỏ cấp trên)",
    "parent_cycle": "Không đặt được: {parent} là chính {code} hoặc là cơ quan cấp dưới của nó.",
    "parent_set": "Đã đặt cơ quan cấp trên của {code}: {before} → {after}",
    "threshold_usage": "Cách dùng: /nguong <MaCoQuan> <số từ 0 đến 100> (hoặc - để dùng mặc định)",
    "threshold_set": "Đã đặt ngưỡng cảnh báo của {code}: {before} → {after}",
    "sample_usage": (
        "Cách dùng: /comau <MaCoQuan> <số nguyên từ 1 đến 10000> (hoặc - để dùng mặc định)"
    ),
    "sample_set": "Đã đặt cỡ mẫu tối thiểu của {code}: {before} → {after}",
    "none": "(không)",
    # settings
    "settings_title": "Cài đặt hiện hành (đổi bằng /caidat <khóa> <giá trị>):",
    "settings_line": "{key} = {value} — {label}{changed}",
    "settings_changed": " (đã đổi qua bot)",
    "s_reminder": "nhắc lại sau (giờ, 1–720)",
    "s_expiry": "phiếu hết hạn sau (ngày, 1–90)",
    "s_quiet": "giờ yên lặng (HH:MM-HH:MM hoặc - để tắt)",
    "s_status": "gửi khảo sát ở trạng thái hồ sơ (9 hoặc 10)",
    "s_escalation": "chuyển cấp trên sau (giờ làm việc, 1–168)",
    "settings_usage": "Khóa không hợp lệ. Các khóa: {keys}.",
    "settings_bad_value": "Giá trị không hợp lệ cho {key}: cần {label}.",
    "settings_set": "Đã đổi {key}: {before} → {after}. Có hiệu lực ngay.",
    "settings_off": "tắt",
    # audit
    "audit_title": "Nhật ký thay đổi (mới nhất trước):",
    "audit_refusals_title": "Các lần bị từ chối (mới nhất trước):",
    "audit_none": "Nhật ký chưa có gì.",
    "audit_line": "{at} · {who} · {action} {target}: {before} → {after}",
    "audit_usage": "Cách dùng: /audit (thay đổi) hoặc /audit tuchoi (các lần bị từ chối).",
}

_EN: Final[dict[str, str]] = {
    "refused": "Sorry, you cannot use this command.",
    "refused_press": "Sorry, you cannot use this button.",
    "flood": "You are sending commands too fast. Please wait a minute and try again.",
    "cancelled": "Cancelled.",
    "nothing_to_cancel": "Nothing to cancel.",
    "failed": "Sorry, the service is busy. Please try again in a few minutes.",
    "help_title": "Your commands:",
    "help_cancel": "Cancel what you are doing",
    "gone_button": "This button no longer works.",
    "menu_start": "Start, link a case",
    "menu_help": "Help",
    "menu_stop": "Stop all messages",
    "menu_language": "Change language (vi/en)",
    "menu_status": "See a case's status",
    "h_invite": "Invite: /invite head <AgencyCode> | inspector | admin",
    "h_people": "Heads, inspectors and admins",
    "h_revoke": "Revoke: /revoke head <AgencyCode> <id> | inspector <id> | admin <id>",
    "h_agencies": "Agency tree, alert thresholds, minimum samples",
    "h_rename": "Rename an agency: /agency_rename <code> <new name>",
    "h_parent": "Move an agency: /agency_parent <code> <parent code|->",
    "h_threshold": "SIPAS alert threshold (%): /threshold <code> <0-100|->",
    "h_min_sample": "Minimum sample: /min_sample <code> <n|->",
    "h_settings": "Show/change settings: /settings [key value]",
    "h_audit": "Audit log (latest 20)",
    "invite_usage": "Usage: /invite head <AgencyCode>, /invite inspector or /invite admin.",
    "invite_unknown_agency": "There is no agency with code {code}.",
    "invite_link": (
        "Invite link for {role} (single use, expires in 72 hours):\n{link}\n"
        "Send it to the person invited; they open it and press Start."
    ),
    "invite_no_username": "\n(The bot does not know its username yet: replace <bot> with it.)",
    "role_head": "head of {agency}",
    "role_inspector": "inspector",
    "role_admin": "admin",
    "people_title": "People with roles:",
    "people_admins": "Admins:",
    "people_env": "{who} (service configuration)",
    "people_inspectors": "Inspectors:",
    "people_heads": "Heads by agency:",
    "people_none": "(none)",
    "revoke_usage": (
        "Usage: /revoke head <AgencyCode> <id>, /revoke inspector <id> or /revoke admin <id> "
        "(the id as /people shows it, e.g. 12345)."
    ),
    "revoke_env": "This role comes from the service configuration and cannot be revoked by chat.",
    "revoke_none": "No such role to revoke.",
    "revoked": "Revoked {role} from {who}. It applies from their next message.",
    "agencies_title": "Agency tree (code — name; threshold %, sample):",
    "agencies_none": "No agencies yet.",
    "agency_line": "{indent}{code} — {name}{extra}",
    "agency_extra": " [threshold {threshold}, sample {sample}]",
    "default": "default",
    "agency_unknown": "There is no agency with code {code}.",
    "rename_usage": "Usage: /agency_rename <code> <new name>",
    "renamed": "Renamed {code}: {before} → {after}",
    "parent_usage": "Usage: /agency_parent <code> <parent code> (or - for none)",
    "parent_cycle": "Not possible: {parent} is {code} itself or below it.",
    "parent_set": "Parent of {code}: {before} → {after}",
    "threshold_usage": "Usage: /threshold <code> <number 0 to 100> (or - for the default)",
    "threshold_set": "Alert threshold of {code}: {before} → {after}",
    "sample_usage": "Usage: /min_sample <code> <whole number 1 to 10000> (or - for the default)",
    "sample_set": "Minimum sample of {code}: {before} → {after}",
    "none": "(none)",
    "settings_title": "Current settings (change with /settings <key> <value>):",
    "settings_line": "{key} = {value} — {label}{changed}",
    "settings_changed": " (changed by chat)",
    "s_reminder": "remind after (hours, 1–720)",
    "s_expiry": "survey expires after (days, 1–90)",
    "s_quiet": "quiet hours (HH:MM-HH:MM or - for none)",
    "s_status": "survey at case status (9 or 10)",
    "s_escalation": "escalate after (working hours, 1–168)",
    "settings_usage": "Unknown key. Keys: {keys}.",
    "settings_bad_value": "Invalid value for {key}: expected {label}.",
    "settings_set": "Changed {key}: {before} → {after}. In effect now.",
    "settings_off": "off",
    "audit_title": "Audit log (newest first):",
    "audit_refusals_title": "Refusals (newest first):",
    "audit_none": "The audit log is empty.",
    "audit_line": "{at} · {who} · {action} {target}: {before} → {after}",
    "audit_usage": "Usage: /audit (changes) or /audit refused (refusals).",
}

_TEXTS: Final = {"vi": _VI, "en": _EN}


def admin_text(language: str, key: str, /, **params: object) -> str:
    table = _TEXTS.get(language, _VI)
    template = table.get(key) or _VI.get(key) or key
    return template.format(**params) if params else template
