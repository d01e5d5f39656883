"""The booking sentences in Modern Standard Arabic (machine-drafted, not yet reviewed by a native speaker).

Codes, emails, field names and ISO dates stay in Latin letters and digits as they are; ``{when}`` is
``dates.said_time`` in Arabic (CLDR's, with its default Latin digits).
"""

from __future__ import annotations

from bookings.phrases.sentences import BookingPhrases

ARABIC: dict[str, BookingPhrases] = {
    "ar": BookingPhrases(
        booking_not_found="لم نعثر على حجز برمز التأكيد وعنوان البريد الإلكتروني هذين. يُرجى التحقق من كليهما.",
        slot_taken="عذرًا، لم يعد هذا الموعد متاحًا. يُرجى اختيار موعد آخر.",
        service_not_found="هذه الخدمة غير متاحة للحجز.",
        not_upcoming="لا يمكن تعديل إلا الحجوزات القادمة؛ وقد بدأ هذا الحجز بالفعل.",
        hold_ran_out="لم يُدفع هذا الحجز في الوقت المحدد، لذا أصبح موعده متاحًا من جديد. يُرجى حجز الخدمة مرة أخرى.",
        cannot_cancel="لم يعد بالإمكان إلغاء هذا الحجز.",
        nothing_to_cancel="هذا الحجز غير نشط، لذا لا يوجد ما يمكن إلغاؤه.",
        cannot_reschedule="لا يمكن تغيير موعد إلا الحجوزات القادمة.",
        name_missing="يُرجى ذكر الاسم الذي سيُسجَّل به الحجز.",
        bad_email="يُرجى إدخال عنوان بريد إلكتروني صالح لإرسال التأكيد إليه.",
        bad_start="وقت البدء هذا غير صالح؛ يُرجى اختيار وقت من قائمة المواعيد المتاحة.",
        too_many_attempts=(
            "تكررت المحاولات غير الناجحة للعثور على حجز. يُرجى الانتظار بعض الوقت، أو طلب التحدث إلى أحد الموظفين."
        ),
        cannot_count=(
            "لا يمكننا التحقق من تفاصيل الحجز الآن. يُرجى المحاولة مرة أخرى بعد بضع دقائق، أو طلب التحدث إلى أحد "
            "الموظفين."
        ),
        proposal_not_found="هذا المقترح غير موجود أو سبق استبداله.",
        details_changed=(
            "تغيّر سعر الخدمة أو مدتها منذ تقديم هذا المقترح، لذا لم يُحجز أي شيء. يُرجى مراجعة التفاصيل الجديدة "
            "والتأكيد مرة أخرى."
        ),
        no_online_payment=(
            "تُدفع هذه الخدمة عبر الإنترنت، والدفع الإلكتروني غير متاح حاليًا، لذا لا يمكن حجزها هنا. يُرجى التواصل "
            "مع المنشأة مباشرةً لحجزها."
        ),
        dates_out_of_range="يجب أن تقع التواريخ بين {first} و{last}.",
        not_a_date="يجب أن تكون قيمة '{field}' تاريخًا مثل 2026-03-09.",
        not_a_time="يجب أن تكون قيمة '{field}' وقتًا مثل 2026-03-09T09:00.",
        days_range="يجب أن تكون قيمة 'days' بين 1 و{limit}.",
        unknown_frame="إطار حجز غير معروف.",
        not_a_decision="هذا ليس قرارًا بشأن مقترح.",
        proposal_expired="انتهت صلاحية هذا المقترح؛ يُرجى الطلب مرة أخرى للحصول على مقترح جديد.",
        nothing_changed="حسنًا، لم يتغيّر شيء.",
        summary_book="حجز {service} في {when} باسم {name} ({email}).",
        summary_cancel="إلغاء {service} في {when} ({code}).",
        summary_reschedule="نقل {service} ({code}) من {old} إلى {new}.",
        price_online="السعر {price}، ويُدفع بالبطاقة فور تأكيدك.",
        price_at_venue="الدفع عند الحضور: {price}.",
        booked="تم الحجز! رمز التأكيد الخاص بك هو {code}. أرسلنا إليك التفاصيل عبر البريد الإلكتروني.",
        held_until_paid="أوشكنا على الانتهاء! سيبقى حجزك {code} محفوظًا إلى حين إتمام الدفع.",
        canceled="تم إلغاء حجزك.",
        moved="تم نقل حجزك إلى {when}.",
    ),
}
