"""What agency heads read from `/report`, `/late`, `/alerts` and `/mute`: Vietnamese first,
English second. Keys missing in English fall back to Vietnamese."""

from __future__ import annotations

VI = "vi"
EN = "en"

HELP = {
    "report": (
        "Báo cáo SIPAS của cơ quan: /report [thang|quy|nam|YYYY-MM]",
        "SIPAS report of your agency: /report [month|quarter|year|YYYY-MM]",
    ),
    "late": (
        "Hồ sơ quá hạn và sắp đến hạn",
        "Cases overdue or due within a working day",
    ),
    "alerts": ("Cảnh báo đang mở", "Open alerts"),
    "mute": (
        "Tạm hoãn cảnh báo thường: /mute <số giờ>",
        "Hold non-urgent alerts: /mute <hours>",
    ),
}

FACTOR_NAMES = {
    VI: {
        1: "Tiếp cận dịch vụ",
        2: "Thủ tục hành chính",
        3: "Công chức",
        4: "Kết quả",
        5: "Phản ánh, kiến nghị",
    },
    EN: {
        1: "Access to the service",
        2: "Administrative procedure",
        3: "Civil servants",
        4: "Result",
        5: "Feedback and complaints",
    },
}

TEXTS: dict[str, dict[str, str]] = {
    VI: {
        # /report
        "report_usage": "Cú pháp: /report [thang|quy|nam|YYYY-MM]. Ví dụ: /report 2026-10. "
        "Không ghi kỳ: từ đầu tháng đến nay.",
        "bad_period": "Không hiểu kỳ báo cáo «{arg}». Hãy dùng thang, quy, nam hoặc YYYY-MM "
        "(ví dụ /report 2026-10).",
        "future_period": "Tháng {month} chưa bắt đầu, chưa có số liệu.",
        "too_old": "Chỉ xem được báo cáo từ năm 2000 trở đi.",
        "need_agency": "Ông/Bà không phụ trách cơ quan nào. Quản trị viên hãy ghi thêm mã cơ "
        "quan, ví dụ: /{command} 000.00.01.H12",
        "too_many_args": "Lệnh có quá nhiều tham số. {usage}",
        "report_title": "📊 Báo cáo SIPAS — {agency}",
        "period": "Kỳ: {start} – {end}",
        "sipas": "SIPAS: {value}% (n={n} phiếu; khoảng tin cậy 95%: {low}–{high}%)",
        "sipas_small": "SIPAS: chưa đủ mẫu để công bố (mới có {n} phiếu, cần ít nhất {min}).",
        "sipas_partial": "SIPAS: chưa tính được vì có yếu tố chưa có ý kiến (n={n} phiếu).",
        "sipas_none": "SIPAS: chưa có ý kiến nào trong kỳ.",
        "factors": "Theo yếu tố:",
        "factor": "• {name}: {value}% (n={n})",
        "factor_small": "• {name}: chưa đủ mẫu (n={n})",
        "factor_none": "• {name}: chưa có ý kiến",
        "on_time": "Giải quyết đúng hạn: {rate}% ({good}/{ended} hồ sơ đã kết thúc)",
        "on_time_none": "Giải quyết đúng hạn: chưa có hồ sơ kết thúc trong kỳ.",
        "overdue": "Hồ sơ đang quá hạn: {count}",
        "qd766": "Mức độ hài lòng theo QĐ 766: {pct}% (điểm {score}/100)",
        "response_rate": "Tỷ lệ trả lời khảo sát: {rate}% ({completed}/{invited} phiếu mời)",
        "worst": "Thủ tục cần cải thiện:",
        "worst_line": "• {name}: {value}% (n={n})",
        "worst_none": "Thủ tục cần cải thiện: chưa có thủ tục nào đủ mẫu.",
        "expectations": "Người dân mong muốn cải thiện nhất: {items}",
        "agencies": "Theo cơ quan:",
        "agency_line": "• {name}: {value}",
        "agency_value": "SIPAS {value}% (n={n})",
        "agency_small": "chưa đủ mẫu (n={n})",
        "agency_more": "… và {count} cơ quan khác",
        "chart_caption": "Biểu đồ SIPAS theo yếu tố — {agency} ({start} – {end})",
        "chart_axis": "Chỉ số (%)",
        "chart_target": "Ngưỡng {value}%",
        # /late
        "late_title": "⏰ Hồ sơ quá hạn và sắp đến hạn — {agency}",
        "late_overdue": "• {code} — {procedure} — hẹn trả {due} (quá hạn)",
        "late_soon": "• {code} — {procedure} — hẹn trả {due}",
        "late_none": "✅ Không có hồ sơ quá hạn hay đến hạn trong một ngày làm việc tới.",
        "late_more": "… và {count} hồ sơ khác.",
        # /alerts
        "alerts_title": "🔔 Cảnh báo chưa xử lý: {count}",
        "alerts_none": "✅ Không có cảnh báo nào đang mở.",
        "alerts_more": "… và {count} cảnh báo khác; xử lý xong các cảnh báo trên rồi gõ "
        "/alerts để xem tiếp.",
        # /mute
        "mute_usage": "Cú pháp: /mute <số giờ từ 1 đến {max}>, ví dụ /mute 4. Gõ /mute 0 để "
        "bật lại cảnh báo ngay.",
        "mute_bad": "«{arg}» không phải số giờ hợp lệ: hãy nhập một số nguyên từ 1 đến {max} "
        "(ví dụ /mute 4), hoặc /mute 0 để bật lại cảnh báo.",
        "mute_set": "🔕 Đã tạm hoãn cảnh báo thường đến {until}. Cảnh báo phát sinh trong thời "
        "gian này sẽ được gửi sau đó, không bị mất. Phản ánh bị đòi tiền hoặc bị gây phiền "
        "hà vẫn được gửi ngay.",
        "mute_off": "🔔 Đã bật lại cảnh báo; các cảnh báo đang chờ sẽ được gửi ngay.",
        "mute_not_on": "Cảnh báo đang bật, không có gì để bật lại.",
        "mute_status": "🔕 Cảnh báo thường đang được tạm hoãn đến {until}.",
        "no_data": "chưa có",
    },
    EN: {
        "report_usage": "Usage: /report [month|quarter|year|YYYY-MM]. Example: /report 2026-10. "
        "Without a period: the month to date.",
        "bad_period": "I do not understand the period “{arg}”. Use month, quarter, year or "
        "YYYY-MM (e.g. /report 2026-10).",
        "future_period": "{month} has not started yet; there are no figures.",
        "too_old": "Reports start from the year 2000.",
        "need_agency": "You head no agency. Administrators add an agency code, e.g. "
        "/{command} 000.00.01.H12",
        "too_many_args": "Too many arguments. {usage}",
        "report_title": "📊 SIPAS report — {agency}",
        "period": "Period: {start} – {end}",
        "sipas": "SIPAS: {value}% (n={n} responses; 95% interval {low}–{high}%)",
        "sipas_small": "SIPAS: too few responses to publish ({n} so far, at least {min} needed).",
        "sipas_partial": "SIPAS: not computable, some factors have no answers yet (n={n}).",
        "sipas_none": "SIPAS: no answers in this period.",
        "factors": "By factor:",
        "factor": "• {name}: {value}% (n={n})",
        "factor_small": "• {name}: too few answers (n={n})",
        "factor_none": "• {name}: no answers",
        "on_time": "Handled on time: {rate}% ({good}/{ended} cases ended)",
        "on_time_none": "Handled on time: no case ended in this period.",
        "overdue": "Cases overdue now: {count}",
        "qd766": "Satisfaction under Decision 766: {pct}% (score {score}/100)",
        "response_rate": "Survey response rate: {rate}% ({completed}/{invited} invitations)",
        "worst": "Procedures to improve:",
        "worst_line": "• {name}: {value}% (n={n})",
        "worst_none": "Procedures to improve: none has enough answers yet.",
        "expectations": "What citizens most want improved: {items}",
        "agencies": "By agency:",
        "agency_line": "• {name}: {value}",
        "agency_value": "SIPAS {value}% (n={n})",
        "agency_small": "too few answers (n={n})",
        "agency_more": "… and {count} more agencies",
        "chart_caption": "SIPAS by factor — {agency} ({start} – {end})",
        "chart_axis": "Index (%)",
        "chart_target": "Threshold {value}%",
        "late_title": "⏰ Cases overdue or due soon — {agency}",
        "late_overdue": "• {code} — {procedure} — due {due} (overdue)",
        "late_soon": "• {code} — {procedure} — due {due}",
        "late_none": "✅ No case is overdue or due within the next working day.",
        "late_more": "… and {count} more cases.",
        "alerts_title": "🔔 Open alerts: {count}",
        "alerts_none": "✅ No open alerts.",
        "alerts_more": "… and {count} more; handle the ones above, then send /alerts again.",
        "mute_usage": "Usage: /mute <hours, 1 to {max}>, e.g. /mute 4. Send /mute 0 to turn "
        "alerts back on now.",
        "mute_bad": "“{arg}” is not a valid number of hours: send a whole number from 1 to "
        "{max} (e.g. /mute 4), or /mute 0 to turn alerts back on.",
        "mute_set": "🔕 Non-urgent alerts are held until {until}. Alerts raised meanwhile "
        "arrive then; none is lost. Complaints of money asked or harassment still arrive at "
        "once.",
        "mute_off": "🔔 Alerts are back on; held alerts are sent now.",
        "mute_not_on": "Alerts are on; there is nothing to turn back on.",
        "mute_status": "🔕 Non-urgent alerts are held until {until}.",
        "no_data": "none",
    },
}


def head_text(language: str, key: str, **params: object) -> str:
    """A head-facing text in `language` (Vietnamese when unknown), filled with `params`."""
    table = TEXTS.get(language, TEXTS[VI])
    template = table.get(key) or TEXTS[VI][key]
    return template.format(**params) if params else template


def factor_name(language: str, factor: int) -> str:
    return FACTOR_NAMES.get(language, FACTOR_NAMES[VI])[factor]


__all__ = ["EN", "FACTOR_NAMES", "HELP", "TEXTS", "VI", "factor_name", "head_text"]
