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
