"""What admins read while shaping the questionnaire: Vietnamese first, English second."""

from __future__ import annotations

from typing import Final

VI: Final = "vi"
EN: Final = "en"

KIND_NAMES: Final[dict[str, dict[str, str]]] = {
    VI: {
        "likert5": "5 mức hài lòng",
        "yes_no": "Có/Không",
        "choice": "chọn phương án",
        "text": "tự nhập",
    },
    EN: {
        "likert5": "five levels",
        "yes_no": "yes/no",
        "choice": "choice",
        "text": "free text",
    },
}

TOPIC_NAMES: Final[dict[str, dict[str, str]]] = {
    VI: {
        "criterion": "tiêu chí SIPAS của một yếu tố",
        "overall": "hài lòng chung",
        "money_asked": "bị đòi thêm tiền",
        "harassment": "bị nhũng nhiễu, gây phiền hà",
        "on_time": "nhận kết quả đúng hẹn",
        "visits": "số lần đi lại",
        "expectations": "điều cần cải thiện",
        "reason": "lý do chưa hài lòng, hỏi sau điểm thấp",
        "suggestion": "góp ý",
    },
    EN: {
        "criterion": "SIPAS criterion of a factor",
        "overall": "overall satisfaction",
        "money_asked": "asked for extra money",
        "harassment": "harassed or sent back needlessly",
        "on_time": "result on time",
        "visits": "number of visits",
        "expectations": "what to improve",
        "reason": "reason for a low score, asked after it",
        "suggestion": "suggestion",
    },
}

FIELD_NAMES: Final[dict[str, dict[str, str]]] = {
    VI: {
        "text_vi": "vi — nội dung tiếng Việt",
        "text_en": "en — nội dung tiếng Anh",
        "kind": "loai — loại câu hỏi",
        "topic": "chude — chủ đề",
        "factor": "nhom — yếu tố 1–5",
        "required": "batbuoc — bắt buộc (co/khong)",
        "options": "luachon — các phương án",
        "max_choices": "toida — số phương án được chọn tối đa",
    },
    EN: {
        "text_vi": "vi — Vietnamese text",
        "text_en": "en — English text",
        "kind": "loai — kind",
        "topic": "chude — topic",
        "factor": "nhom — factor 1–5",
        "required": "batbuoc — required (co/khong)",
        "options": "luachon — options",
        "max_choices": "toida — most options one may pick",
    },
}

CHANGED_NAMES: Final[dict[str, dict[str, str]]] = {
    VI: {
        "text_vi": "nội dung tiếng Việt",
        "text_en": "nội dung tiếng Anh",
        "kind": "loại",
        "topic": "chủ đề",
        "factor": "yếu tố",
        "required": "bắt buộc",
        "options": "phương án",
        "max_choices": "số phương án chọn tối đa",
        "after_low_in_factor": "hỏi sau điểm thấp của yếu tố",
        "yes": "có",
        "no": "không",
    },
    EN: {
        "text_vi": "Vietnamese text",
        "text_en": "English text",
        "kind": "kind",
        "topic": "topic",
        "factor": "factor",
        "required": "required",
        "options": "options",
        "max_choices": "most options picked",
        "after_low_in_factor": "asked after a low score in factor",
        "yes": "yes",
        "no": "no",
    },
}

BASE_NAMES: Final[dict[str, dict[str, str]]] = {
    VI: {"short": "mẫu rút gọn", "full": "mẫu SIPAS đầy đủ (19 tiêu chí)", "custom": "tự soạn"},
    EN: {"short": "short form", "full": "full SIPAS form (19 criteria)", "custom": "custom"},
}

_OPTIONS_FORMAT_VI = (
    "Mỗi dòng một phương án: MÃ = Tiếng Việt | English\n"
    "Ví dụ:\nA1 = Chờ lâu | Long wait\nA2 = Thiếu hướng dẫn | No guidance"
)
_OPTIONS_FORMAT_EN = (
    "One option a line: CODE = Vietnamese | English\n"
    "Example:\nA1 = Chờ lâu | Long wait\nA2 = Thiếu hướng dẫn | No guidance"
)

HELP: Final[dict[str, dict[str, str]]] = {
    VI: {
        "list": "Xem bộ câu hỏi đang dùng và bản nháp",
        "q_edit": "Sửa nội dung tiếng Việt: /q_edit <mã> <nội dung mới>",
        "q_set": "Sửa một thuộc tính câu hỏi: /q_sua <mã> <thuộc tính> <giá trị>",
        "q_add": "Thêm câu hỏi (hỏi từng bước)",
        "q_remove": "Xóa câu hỏi khỏi bản nháp: /q_xoa <mã>",
        "q_move": "Đổi thứ tự: /q_thutu <mã> <vị trí>",
        "q_base": "Lấy mẫu có sẵn làm bản nháp: /q_mau rutgon|daydu",
        "preview": "Xem thử bản nháp như người dân",
        "publish": "Ban hành bản nháp thành phiên bản mới",
        "discard": "Hủy bản nháp",
    },
    EN: {
        "list": "Show the active questionnaire and the draft",
        "q_edit": "Change the Vietnamese text: /q_edit <code> <new text>",
        "q_set": "Change a question field: /q_sua <code> <field> <value>",
        "q_add": "Add a question (step by step)",
        "q_remove": "Remove a question from the draft: /q_xoa <code>",
        "q_move": "Reorder: /q_thutu <code> <position>",
        "q_base": "Use a built-in form as the draft: /q_mau rutgon|daydu",
        "preview": "Walk through the draft as a citizen would",
        "publish": "Publish the draft as a new version",
        "discard": "Drop the draft",
    },
}

MESSAGES: Final[dict[str, dict[str, str]]] = {
    VI: {
        # listing
        "active_header": "📋 Phiên bản đang dùng: số {version} ({base}), {count} câu hỏi.",
        "no_active": "Chưa có bộ câu hỏi nào đang dùng.",
        "draft_header": "📝 Bản nháp ({base}), {count} câu hỏi:",
        "no_draft": "Chưa có bản nháp. Lần sửa đầu tiên sẽ tạo bản nháp từ phiên bản đang dùng.",
        "active_list": "Các câu hỏi của phiên bản đang dùng:",
        "question_line": "{position}. {code} · {kind}{factor} · {required}\n   {text}",
        "factor": " · yếu tố {factor}",
        "required": "bắt buộc",
        "optional": "không bắt buộc",
        "branch": "hỏi sau điểm thấp yếu tố {factor}",
        "diff_added": "➕ Thêm: {codes}",
        "diff_removed": "➖ Bỏ: {codes}",
        "diff_changed": "✏️ Sửa: {codes}",
        "diff_moved": "↕️ Đổi thứ tự câu hỏi",
        "diff_none": "Bản nháp chưa khác phiên bản đang dùng.",
        "list_hint": "Xem thử: /preview · Ban hành: /publish · Hủy nháp: /discard",
        # changes
        "edited": "✅ Đã sửa câu {code} trong bản nháp:\n{changes}",
        "change_line": "• {field}: {before} → {after}",
        "added": "✅ Đã thêm câu {code} vào cuối bản nháp (vị trí {position}). "
        "Đổi vị trí: /q_thutu {code} <vị trí>",
        "removed": "✅ Đã xóa câu {code} khỏi bản nháp.",
        "moved": "✅ Câu {code}: vị trí {before} → {after}.",
        "rebased": "✅ Bản nháp nay là {base} ({count} câu hỏi). Những sửa đổi trước trên "
        "bản nháp đã được thay thế.",
        "published": "✅ Đã ban hành phiên bản số {version}. Lời mời khảo sát từ bây giờ dùng "
        "phiên bản này; các khảo sát đang làm dở vẫn giữ phiên bản cũ.",
        "nothing_to_publish": "Chưa có bản nháp để ban hành. Hãy sửa câu hỏi trước.",
        "discarded": "✅ Đã hủy bản nháp. Phiên bản đang dùng không thay đổi.",
        "nothing_to_discard": "Không có bản nháp nào để hủy.",
        "no_form": "Chưa có bộ câu hỏi nào trong hệ thống; hãy khởi động lại dịch vụ.",
        "busy": "Hệ thống đang bận, vui lòng thử lại sau ít phút.",
        # usage
        "q_move_usage": "Cách dùng: /q_thutu <mã> <vị trí>, ví dụ: /q_thutu COMMENT 1",
        "q_base_usage": "Cách dùng: /q_mau rutgon (mẫu rút gọn) hoặc /q_mau daydu "
        "(mẫu SIPAS đầy đủ 19 tiêu chí).",
        # guided conversations
        "ask_code": "Câu hỏi nào? Gửi mã câu hỏi ({codes}). Gửi /cancel để thôi.",
        "ask_new_vi": "Câu {code} hiện là:\n{text}\n\nGửi nội dung tiếng Việt mới.",
        "ask_field": "Sửa thuộc tính nào của câu {code}? Gửi một trong:\n{fields}",
        "ask_value": "Câu {code}, {field}. Giá trị hiện tại: {current}\nGửi giá trị mới.",
        "ask_new_code": "Thêm câu hỏi mới. Gửi mã câu hỏi (chữ không dấu, số, '.' hoặc '_', "
        "tối đa 24 ký tự), ví dụ: F6. Gửi /cancel để thôi.",
        "ask_kind": "Loại câu hỏi? Gửi số:\n{kinds}",
        "ask_topic": "Chủ đề (dùng để tính điểm)? Gửi số:\n{topics}",
        "ask_factor": "Thuộc yếu tố nào (1–5)?\n1 Tiếp cận dịch vụ · 2 Thủ tục hành chính · "
        "3 Công chức · 4 Kết quả · 5 Phản ánh, kiến nghị",
        "ask_text_vi": "Gửi nội dung câu hỏi bằng tiếng Việt.",
        "ask_text_en": "Gửi nội dung câu hỏi bằng tiếng Anh.",
        "ask_options": "Gửi các phương án trong một tin nhắn.\n" + _OPTIONS_FORMAT_VI,
        "ask_max": "Người dân được chọn tối đa bao nhiêu phương án (1–{count})?",
        "ask_required": "Câu hỏi có bắt buộc trả lời không? Gửi: co hoặc khong.",
        "ask_remove": "Xóa câu nào? Gửi mã câu hỏi ({codes}). Gửi /cancel để thôi.",
        "try_again": "{error}\nVui lòng gửi lại, hoặc /cancel để thôi.",
        # refusals of an edit
        "bad_field": "Không có thuộc tính “{value}”. Thuộc tính:\n{fields}",
        "bad_code": "Mã “{code}” không hợp lệ: chỉ dùng chữ không dấu, số, '.' hoặc '_', "
        "tối đa 24 ký tự.",
        "unknown_code": "Bản nháp không có câu hỏi mã “{code}”. Xem danh sách: /cauhoi",
        "code_taken": "Mã “{code}” đã có trong bộ câu hỏi; hãy chọn mã khác.",
        "bad_kind": "Loại “{value}” không có. Loại: likert5, yes_no, choice, text.",
        "bad_topic": "Chủ đề “{value}” không có hoặc không hợp với loại câu hỏi.",
        "bad_factor": "Yếu tố phải là số từ 1 đến 5 (hoặc '-' nếu không thuộc yếu tố nào).",
        "bad_required": "Hãy gửi “co” (bắt buộc) hoặc “khong” (không bắt buộc).",
        "bad_max_value": "Số phương án tối đa phải là số từ 1 đến 10.",
        "bad_max": "Câu {code}: số phương án được chọn tối đa phải từ 1 đến số phương án.",
        "empty_text": "Nội dung không được để trống.",
        "text_too_long": "Nội dung tối đa {limit} ký tự; vui lòng rút gọn.",
        "need_options": "Câu hỏi chọn phương án cần ít nhất hai phương án.\n" + _OPTIONS_FORMAT_VI,
        "too_many_options": "Tối đa {limit} phương án.",
        "bad_option": "Phương án “{value}” chưa đúng dạng.\n" + _OPTIONS_FORMAT_VI,
        "bad_option_code": "Mã phương án “{code}” không hợp lệ: 1–8 chữ không dấu hoặc số.",
        "option_too_long": "Mỗi phương án tối đa {limit} ký tự (để vừa nút bấm).",
        "option_twice": "Hai phương án trùng mã.",
        "option_texts": "Câu {code}: mỗi phương án cần cả tiếng Việt và tiếng Anh.",
        "options_only_choice": "Câu {code}: chỉ câu hỏi chọn phương án mới có phương án.",
        "need_texts": "Câu {code} cần nội dung cả tiếng Việt và tiếng Anh.",
        "bad_base": "Không có mẫu “{value}”. Mẫu có sẵn: rutgon, daydu.",
        "topic_kind": "Câu {code}: chủ đề “{topic}” cần loại {kind}.",
        "kind_needs_topic": "Câu {code}: loại {kind} cần chọn chủ đề ({topics}), ví dụ: "
        "/q_sua {code} loai {kind} {first}",
        "kind_needs_options": "Câu {code}: loại choice cần các phương án. Gửi /q_sua không kèm "
        "gì để được hướng dẫn từng bước.",
        "factor_needed": "Câu {code} là tiêu chí hoặc lý do nên phải thuộc một yếu tố 1–5.",
        "factor_unused": "Câu {code} không phải tiêu chí hay lý do nên không thuộc yếu tố nào "
        "(gửi '-').",
        "reason_branch": "Câu {code}: câu hỏi lý do chỉ được hỏi sau điểm thấp của yếu tố.",
        "branch_no_likert": "Câu {code} hỏi lý do sau điểm thấp, nhưng yếu tố đó không còn câu "
        "hỏi 5 mức nào. Hãy xóa câu lý do trước.",
        "branch_optional": "Câu {code} hỏi lý do nên không bắt buộc.",
        "branch_choice": "Câu {code}: câu hỏi lý do phải là câu chọn phương án trong đúng yếu tố "
        "của nó.",
        "need_likert": "Bộ câu hỏi cần ít nhất một câu hỏi 5 mức hài lòng.",
        "bad_position": "Vị trí phải là số từ 1 đến {count}.",
        "unchanged": "Câu {code} đã có đúng giá trị đó; không có gì thay đổi.",
        "invalid": "Thay đổi này làm bộ câu hỏi không hợp lệ ({detail}).",
        # preview
        "preview_header": "👁 XEM THỬ bản nháp — như người dân thấy; không ghi nhận câu trả "
        "lời nào. Gửi /cancel để dừng.",
        "preview_no_draft": "Chưa có bản nháp để xem thử. Sửa một câu hỏi để tạo bản nháp.",
        "preview_stale": "Bản nháp đã thay đổi; gửi /preview để xem thử lại.",
        "preview_done": "👁 Hết bản xem thử. Không có câu trả lời nào được ghi nhận. "
        "Ban hành: /publish",
        "preview_over": "Bản xem thử đã kết thúc.",
    },
    EN: {
        "active_header": "📋 Active version: no. {version} ({base}), {count} questions.",
        "no_active": "No questionnaire is active yet.",
        "draft_header": "📝 Draft ({base}), {count} questions:",
        "no_draft": "No draft yet. The first edit creates one from the active version.",
        "active_list": "Questions of the active version:",
        "question_line": "{position}. {code} · {kind}{factor} · {required}\n   {text}",
        "factor": " · factor {factor}",
        "required": "required",
        "optional": "optional",
        "branch": "asked after a low score in factor {factor}",
        "diff_added": "➕ Added: {codes}",
        "diff_removed": "➖ Removed: {codes}",
        "diff_changed": "✏️ Changed: {codes}",
        "diff_moved": "↕️ Order changed",
        "diff_none": "The draft does not differ from the active version yet.",
        "list_hint": "Preview: /preview · Publish: /publish · Drop the draft: /discard",
        "edited": "✅ Question {code} changed in the draft:\n{changes}",
        "change_line": "• {field}: {before} → {after}",
        "added": "✅ Question {code} added at the end of the draft (position {position}). "
        "Move it: /q_thutu {code} <position>",
        "removed": "✅ Question {code} removed from the draft.",
        "moved": "✅ Question {code}: position {before} → {after}.",
        "rebased": "✅ The draft is now the {base} ({count} questions). Earlier draft edits "
        "were replaced.",
        "published": "✅ Version {version} published. New survey invitations use it from now "
        "on; surveys in progress keep their version.",
        "nothing_to_publish": "There is no draft to publish. Edit a question first.",
        "discarded": "✅ Draft dropped. The active version is unchanged.",
        "nothing_to_discard": "There is no draft to drop.",
        "no_form": "No questionnaire is stored yet; restart the service.",
        "busy": "The system is busy, please try again in a few minutes.",
        "q_move_usage": "Usage: /q_thutu <code> <position>, e.g. /q_thutu COMMENT 1",
        "q_base_usage": "Usage: /q_mau rutgon (short form) or /q_mau daydu (full SIPAS form).",
        "ask_code": "Which question? Send its code ({codes}). Send /cancel to stop.",
        "ask_new_vi": "Question {code} now reads:\n{text}\n\nSend the new Vietnamese text.",
        "ask_field": "Which field of question {code}? Send one of:\n{fields}",
        "ask_value": "Question {code}, {field}. Now: {current}\nSend the new value.",
        "ask_new_code": "New question. Send its code (ASCII letters, digits, '.' or '_', up to "
        "24 characters), e.g. F6. Send /cancel to stop.",
        "ask_kind": "Kind of question? Send the number:\n{kinds}",
        "ask_topic": "Topic (used for scoring)? Send the number:\n{topics}",
        "ask_factor": "Which factor (1–5)?\n1 Access · 2 Procedure · 3 Officials · 4 Result · "
        "5 Feedback handling",
        "ask_text_vi": "Send the question text in Vietnamese.",
        "ask_text_en": "Send the question text in English.",
        "ask_options": "Send the options in one message.\n" + _OPTIONS_FORMAT_EN,
        "ask_max": "How many options may a citizen pick (1–{count})?",
        "ask_required": "Must it be answered? Send: co (yes) or khong (no).",
        "ask_remove": "Remove which question? Send its code ({codes}). Send /cancel to stop.",
        "try_again": "{error}\nPlease send it again, or /cancel to stop.",
        "bad_field": "There is no field “{value}”. Fields:\n{fields}",
        "bad_code": "Code “{code}” is not valid: ASCII letters, digits, '.' or '_', up to 24.",
        "unknown_code": "The draft has no question “{code}”. See the list: /cauhoi",
        "code_taken": "Code “{code}” is already used; choose another.",
        "bad_kind": "There is no kind “{value}”. Kinds: likert5, yes_no, choice, text.",
        "bad_topic": "Topic “{value}” does not exist or does not fit the kind.",
        "bad_factor": "The factor is a number from 1 to 5 (or '-' for none).",
        "bad_required": "Send “co” (required) or “khong” (optional).",
        "bad_max_value": "The most options one may pick is a number from 1 to 10.",
        "bad_max": "Question {code}: the most options one may pick must fit the options.",
        "empty_text": "The text cannot be empty.",
        "text_too_long": "At most {limit} characters; please shorten it.",
        "need_options": "A choice needs at least two options.\n" + _OPTIONS_FORMAT_EN,
        "too_many_options": "At most {limit} options.",
        "bad_option": "Option “{value}” is not in the right form.\n" + _OPTIONS_FORMAT_EN,
        "bad_option_code": "Option code “{code}” is not valid: 1–8 ASCII letters or digits.",
        "option_too_long": "Each option has at most {limit} characters (to fit a button).",
        "option_twice": "Two options share a code.",
        "option_texts": "Question {code}: every option needs Vietnamese and English.",
        "options_only_choice": "Question {code}: only a choice has options.",
        "need_texts": "Question {code} needs Vietnamese and English text.",
        "bad_base": "There is no form “{value}”. Built-in forms: rutgon, daydu.",
        "topic_kind": "Question {code}: topic “{topic}” needs kind {kind}.",
        "kind_needs_topic": "Question {code}: kind {kind} needs a topic ({topics}), e.g. "
        "/q_sua {code} loai {kind} {first}",
        "kind_needs_options": "Question {code}: a choice needs options. Send /q_sua alone to "
        "be guided step by step.",
        "factor_needed": "Question {code} is a criterion or a reason, so it needs a factor 1–5.",
        "factor_unused": "Question {code} is neither a criterion nor a reason, so it has no "
        "factor (send '-').",
        "reason_branch": "Question {code}: a reason is asked only after a low score.",
        "branch_no_likert": "Question {code} asks why after a low score, but its factor has no "
        "five-level question left. Remove that reason question first.",
        "branch_optional": "Question {code} asks for a reason, so it is optional.",
        "branch_choice": "Question {code}: a reason is a choice in its own factor.",
        "need_likert": "The questionnaire needs at least one five-level question.",
        "bad_position": "The position is a number from 1 to {count}.",
        "unchanged": "Question {code} already has that value; nothing changed.",
        "invalid": "This change would make the questionnaire invalid ({detail}).",
        "preview_header": "👁 PREVIEW of the draft — as a citizen sees it; no answer is "
        "recorded. Send /cancel to stop.",
        "preview_no_draft": "There is no draft to preview. Edit a question to create one.",
        "preview_stale": "The draft has changed; send /preview to preview it again.",
        "preview_done": "👁 End of the preview. No answer was recorded. Publish: /publish",
        "preview_over": "The preview has ended.",
    },
}


def _lang(language: str) -> str:
    return language if language in MESSAGES else VI


def qtext(language: str, key: str, **params: object) -> str:
    """An admin message in `language` (Vietnamese when unknown), with `params` filled in."""
    template = MESSAGES[_lang(language)].get(key) or MESSAGES[VI].get(key) or key
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def kind_name(language: str, kind: str) -> str:
    return KIND_NAMES[_lang(language)].get(kind, kind)


def topic_name(language: str, topic: str) -> str:
    return TOPIC_NAMES[_lang(language)].get(topic, topic)


def field_list(language: str) -> str:
    return "\n".join(FIELD_NAMES[_lang(language)].values())


def changed_name(language: str, field: str) -> str:
    """How a changed field (or "yes"/"no") reads in an edit confirmation."""
    return CHANGED_NAMES[_lang(language)].get(field, field)


def base_name(language: str, base: str) -> str:
    return BASE_NAMES[_lang(language)].get(base, base)


def help_line(language: str, command: str) -> str:
    return HELP[_lang(language)][command]
