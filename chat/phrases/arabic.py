"""The error sentences in Modern Standard Arabic (machine-drafted, not yet reviewed by a native speaker).

Field names, frame types, header names and ``"up"`` / ``"down"`` stay in Latin letters as the protocol spells
them; numbers are said without a counted noun ("الحد المسموح به، وهو {limit}"), so no limit needs Arabic's
number agreement.
"""

from __future__ import annotations

from chat.phrases.sentences import ErrorPhrases

ARABIC: dict[str, ErrorPhrases] = {
    "ar": ErrorPhrases(
        binary="يُرجى إرسال إطارات نصية بصيغة JSON، وليس إطارات ثنائية.",
        frame_too_long="يتجاوز حجم الإطار الحد المسموح به، وهو {limit} بايت.",
        not_json="يجب أن تكون الإطارات كائنات JSON.",
        unknown_type="نوع إطار غير معروف: {kind}.",
        not_string="يجب أن تكون قيمة '{field}' نصًا.",
        not_text="تحتوي قيمة '{field}' على محرف لا يُعدّ نصًا.",
        required="الحقل '{field}' مطلوب.",
        field_too_long="يتجاوز عدد أحرف '{field}' الحد المسموح به، وهو {limit}.",
        not_integer="يجب أن تكون قيمة '{field}' عددًا صحيحًا.",
        feedback_value='يجب أن تكون قيمة \'value\' إما "up" أو "down".',
        rating_range="يجب أن تكون قيمة 'rating' بين 1 و5.",
        bad_phone="يجب أن تكون قيمة 'phone' رقم هاتف: من 7 إلى 15 رقمًا، ويجوز أن تبدأ بعلامة +.",
        bad_email="يبدو أن عنوان البريد الإلكتروني هذا غير صحيح.",
        frame_flood="عدد الإطارات كبير جدًا؛ لذا أُغلق هذا الاتصال.",
        too_quickly="أنت ترسل الرسائل بسرعة كبيرة؛ يُرجى الانتظار قليلًا.",
        network_busy="عدد الرسائل الواردة من شبكتك كبير جدًا؛ يُرجى الانتظار دقيقة.",
        message_not_found="لا توجد إجابة كهذه في هذه المحادثة.",
        feedback_too_early="يمكن إبداء الرأي بعد اكتمال الإجابة.",
        feedback_on_failed="لا يمكن إبداء الرأي في إجابة تعذّر إتمامها.",
        client_id_reused="سبق استخدام 'client_id' لرسالة أخرى في هذه المحادثة.",
        internal="حدث خطأ من جهتنا. يُرجى المحاولة مرة أخرى.",
        use_post="يُرجى استخدام POST.",
        body_too_long="يتجاوز حجم نص الطلب الحد المسموح به، وهو {limit:,} بايت بترميز UTF-8، مثل إطار websocket.",
        body_not_json="يجب أن يكون نص الطلب كائن JSON مُرسلًا بترميز UTF-8.",
        bad_content_length="يجب أن تكون قيمة الترويسة Content-Length عددًا من البايتات.",
        unknown_key="مفتاح أداة الدردشة غير معروف.",
        foreign_origin="لا يُسمح لهذا الموقع باستخدام هذه الدردشة.",
        too_many_chats="عدد المحادثات الجديدة الواردة من شبكتك كبير جدًا؛ يُرجى الانتظار دقيقة.",
        too_many_requests="عدد الطلبات الواردة من شبكتك كبير جدًا؛ يُرجى الانتظار دقيقة.",
        no_chat_for_token="لا توجد محادثة مرتبطة برمز الاستئناف هذا؛ يُرجى بدء محادثة أولًا.",
        no_chat_to_hand_over="لا توجد محادثة جارية لتحويلها؛ يُرجى بدء محادثة أولًا.",
        handoff_chat_ended="لا توجد محادثة جارية لتحويلها.",
        handoff_too_often=(
            "لقد طلبت التحدث إلى أحد الموظفين عدة مرات خلال الساعة الماضية. طلبك لدى فريقنا بالفعل؛ يُرجى انتظار "
            "ردّهم، أو المحاولة مرة أخرى لاحقًا."
        ),
        identity_not_configured="لا يتحقق هذا المساعد من هويات العملاء.",
        identity_invalid="تعذّر التحقق من رمز الهوية.",
        identity_expired="انتهت صلاحية رمز الهوية؛ يُرجى توقيع رمز جديد.",
        identity_too_long_lived="لا يجوز أن تتجاوز مدة صلاحية رموز الهوية 24 ساعة.",
        identity_unavailable="التحقق من الهوية غير متاح حاليًا؛ سيبقى الزائر مجهول الهوية.",
        identity_conflict="تعود هذه المحادثة إلى عميل آخر مسجَّل الدخول؛ يُرجى بدء محادثة جديدة.",
    ),
}
