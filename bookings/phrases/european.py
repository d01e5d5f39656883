# ruff: noqa: RUF001 (Cyrillic letters are the point of this table)
"""The booking sentences in English (today's messages, word for word), German, Dutch and Russian; the
Romance languages are in ``romance.py``."""

from __future__ import annotations

from bookings.phrases.sentences import BookingPhrases

EUROPEAN: dict[str, BookingPhrases] = {
    "en": BookingPhrases(
        booking_not_found="We couldn't find a booking with that confirmation code and email. Please check both.",
        slot_taken="Sorry, that time is no longer available. Please choose another slot.",
        service_not_found="That service is not available for booking.",
        not_upcoming="Only upcoming bookings can be changed; this one has already started.",
        hold_ran_out="This booking was not paid in time, so its time was released. Please book the service again.",
        cannot_cancel="This booking can no longer be canceled.",
        nothing_to_cancel="This booking is not active, so there is nothing to cancel.",
        cannot_reschedule="Only upcoming bookings can be rescheduled.",
        name_missing="Please give the name the booking should be under.",
        bad_email="Please give a valid email address for the confirmation.",
        bad_start="That start time is not valid; use a time from the list of free slots.",
        too_many_attempts="Too many unsuccessful attempts to find a booking. Please wait a while, or ask for a human.",
        cannot_count=(
            "We can't check booking details right now. Please try again in a few minutes, or ask for a human."
        ),
        proposal_not_found="That proposal does not exist or has already been replaced.",
        details_changed=(
            "The service's price or length changed since this was proposed, so nothing was booked. "
            "Please look at the new details and confirm again."
        ),
        no_online_payment=(
            "This service is paid online, and online payment is not available at the moment, so it cannot be "
            "booked here. Please contact the business to book it."
        ),
        dates_out_of_range="Dates must be between {first} and {last}.",
        not_a_date="'{field}' must be a date like 2026-03-09.",
        not_a_time="'{field}' must be a time like 2026-03-09T09:00.",
        days_range="'days' must be between 1 and {limit}.",
        unknown_frame="Unknown booking frame.",
        not_a_decision="Not a proposal decision.",
        proposal_expired="This proposal expired; ask again to get a fresh one.",
        nothing_changed="Okay, nothing was changed.",
        summary_book="Book {service} on {when} for {name} ({email}).",
        summary_cancel="Cancel {service} on {when} ({code}).",
        summary_reschedule="Move {service} ({code}) from {old} to {new}.",
        price_online="Price {price}, paid by card right after you confirm.",
        price_at_venue="Pay at the venue: {price}.",
        booked="Booked! Your confirmation code is {code}. We've emailed you the details.",
        held_until_paid="Almost done! Your booking {code} is held until you pay.",
        canceled="Your booking is canceled.",
        moved="Your booking has been moved to {when}.",
    ),
    "de": BookingPhrases(
        booking_not_found=(
            "Wir konnten keine Buchung mit diesem Bestätigungscode und dieser E-Mail-Adresse finden. "
            "Bitte prüfen Sie beides."
        ),
        slot_taken="Dieser Termin ist leider nicht mehr verfügbar. Bitte wählen Sie einen anderen.",
        service_not_found="Diese Leistung kann nicht gebucht werden.",
        not_upcoming="Nur bevorstehende Buchungen können geändert werden; diese hat bereits begonnen.",
        hold_ran_out=(
            "Diese Buchung wurde nicht rechtzeitig bezahlt, daher wurde ihr Termin freigegeben. "
            "Bitte buchen Sie die Leistung erneut."
        ),
        cannot_cancel="Diese Buchung kann nicht mehr storniert werden.",
        nothing_to_cancel="Diese Buchung ist nicht aktiv, es gibt also nichts zu stornieren.",
        cannot_reschedule="Nur bevorstehende Buchungen können verschoben werden.",
        name_missing="Bitte geben Sie den Namen an, auf den die Buchung laufen soll.",
        bad_email="Bitte geben Sie eine gültige E-Mail-Adresse für die Bestätigung an.",
        bad_start="Diese Startzeit ist ungültig; bitte wählen Sie eine Zeit aus der Liste der freien Termine.",
        too_many_attempts=(
            "Zu viele erfolglose Versuche, eine Buchung zu finden. Bitte warten Sie eine Weile oder fragen Sie "
            "nach einem Menschen."
        ),
        cannot_count=(
            "Wir können die Buchungsdaten gerade nicht prüfen. Bitte versuchen Sie es in ein paar Minuten erneut "
            "oder fragen Sie nach einem Menschen."
        ),
        proposal_not_found="Diesen Vorschlag gibt es nicht, oder er wurde bereits ersetzt.",
        details_changed=(
            "Preis oder Dauer der Leistung haben sich seit diesem Vorschlag geändert, daher wurde nichts gebucht. "
            "Bitte sehen Sie sich die neuen Angaben an und bestätigen Sie erneut."
        ),
        no_online_payment=(
            "Diese Leistung wird online bezahlt, und die Online-Zahlung ist derzeit nicht verfügbar, daher kann sie "
            "hier nicht gebucht werden. Bitte wenden Sie sich zum Buchen direkt an das Unternehmen."
        ),
        dates_out_of_range="Das Datum muss zwischen {first} und {last} liegen.",
        not_a_date="'{field}' muss ein Datum wie 2026-03-09 sein.",
        not_a_time="'{field}' muss eine Uhrzeit wie 2026-03-09T09:00 sein.",
        days_range="'days' muss zwischen 1 und {limit} liegen.",
        unknown_frame="Unbekannter Buchungs-Frame.",
        not_a_decision="Keine Entscheidung über einen Vorschlag.",
        proposal_expired="Dieser Vorschlag ist abgelaufen; fragen Sie erneut, um einen neuen zu erhalten.",
        nothing_changed="In Ordnung, es wurde nichts geändert.",
        summary_book="{service} am {when} für {name} ({email}) buchen.",
        summary_cancel="{service} am {when} ({code}) stornieren.",
        summary_reschedule="{service} ({code}) von {old} auf {new} verschieben.",
        price_online="Preis {price}, per Karte direkt nach Ihrer Bestätigung zu zahlen.",
        price_at_venue="Zahlung vor Ort: {price}.",
        booked="Gebucht! Ihr Bestätigungscode lautet {code}. Wir haben Ihnen die Details per E-Mail geschickt.",
        held_until_paid="Fast geschafft! Ihre Buchung {code} ist reserviert, bis Sie bezahlen.",
        canceled="Ihre Buchung ist storniert.",
        moved="Ihre Buchung wurde auf {when} verschoben.",
    ),
    "nl": BookingPhrases(
        booking_not_found=(
            "We konden geen boeking vinden met die bevestigingscode en dat e-mailadres. Controleer ze allebei."
        ),
        slot_taken="Sorry, dat tijdstip is niet meer beschikbaar. Kies een ander tijdslot.",
        service_not_found="Die dienst kan niet worden geboekt.",
        not_upcoming="Alleen toekomstige boekingen kunnen worden gewijzigd; deze is al begonnen.",
        hold_ran_out="Deze boeking is niet op tijd betaald, dus het tijdstip is vrijgegeven. Boek de dienst opnieuw.",
        cannot_cancel="Deze boeking kan niet meer worden geannuleerd.",
        nothing_to_cancel="Deze boeking is niet actief, dus er valt niets te annuleren.",
        cannot_reschedule="Alleen toekomstige boekingen kunnen worden verzet.",
        name_missing="Geef de naam op waarop de boeking moet staan.",
        bad_email="Geef een geldig e-mailadres op voor de bevestiging.",
        bad_start="Die begintijd is ongeldig; kies een tijd uit de lijst met vrije tijdsloten.",
        too_many_attempts=(
            "Te veel mislukte pogingen om een boeking te vinden. Wacht even, of vraag naar een medewerker."
        ),
        cannot_count=(
            "We kunnen de boekingsgegevens nu niet controleren. Probeer het over een paar minuten opnieuw, of vraag "
            "naar een medewerker."
        ),
        proposal_not_found="Dat voorstel bestaat niet of is al vervangen.",
        details_changed=(
            "De prijs of duur van de dienst is gewijzigd sinds dit voorstel, dus er is niets geboekt. "
            "Bekijk de nieuwe gegevens en bevestig opnieuw."
        ),
        no_online_payment=(
            "Deze dienst wordt online betaald en online betalen is op dit moment niet mogelijk, dus hij kan hier "
            "niet worden geboekt. Neem contact op met het bedrijf om hem te boeken."
        ),
        dates_out_of_range="Datums moeten tussen {first} en {last} liggen.",
        not_a_date="'{field}' moet een datum zijn zoals 2026-03-09.",
        not_a_time="'{field}' moet een tijd zijn zoals 2026-03-09T09:00.",
        days_range="'days' moet tussen 1 en {limit} liggen.",
        unknown_frame="Onbekend boekingsframe.",
        not_a_decision="Geen beslissing over een voorstel.",
        proposal_expired="Dit voorstel is verlopen; vraag het opnieuw aan voor een nieuw voorstel.",
        nothing_changed="Oké, er is niets gewijzigd.",
        summary_book="{service} boeken op {when} voor {name} ({email}).",
        summary_cancel="{service} op {when} ({code}) annuleren.",
        summary_reschedule="{service} ({code}) verplaatsen van {old} naar {new}.",
        price_online="Prijs {price}, met een kaart te betalen direct nadat u bevestigt.",
        price_at_venue="Betalen ter plaatse: {price}.",
        booked="Geboekt! Uw bevestigingscode is {code}. We hebben u de details gemaild.",
        held_until_paid="Bijna klaar! Uw boeking {code} wordt vastgehouden totdat u betaalt.",
        canceled="Uw boeking is geannuleerd.",
        moved="Uw boeking is verplaatst naar {when}.",
    ),
    "ru": BookingPhrases(
        booking_not_found=(
            "Мы не нашли бронирование с таким кодом подтверждения и адресом электронной почты. "
            "Проверьте и то, и другое."
        ),
        slot_taken="К сожалению, это время уже недоступно. Выберите другое.",
        service_not_found="Эту услугу нельзя забронировать.",
        not_upcoming="Изменить можно только предстоящие бронирования; это уже началось.",
        hold_ran_out=(
            "Это бронирование не было оплачено вовремя, поэтому его время освобождено. Забронируйте услугу заново."
        ),
        cannot_cancel="Это бронирование больше нельзя отменить.",
        nothing_to_cancel="Это бронирование неактивно, поэтому отменять нечего.",
        cannot_reschedule="Перенести можно только предстоящие бронирования.",
        name_missing="Укажите имя, на которое нужно оформить бронирование.",
        bad_email="Укажите действительный адрес электронной почты для подтверждения.",
        bad_start="Это время начала недопустимо; выберите время из списка свободных слотов.",
        too_many_attempts=(
            "Слишком много неудачных попыток найти бронирование. Подождите немного или попросите соединить вас "
            "с сотрудником."
        ),
        cannot_count=(
            "Сейчас мы не можем проверить данные бронирования. Попробуйте ещё раз через несколько минут или "
            "попросите соединить вас с сотрудником."
        ),
        proposal_not_found="Такого предложения нет, или оно уже заменено.",
        details_changed=(
            "С момента этого предложения изменилась цена или длительность услуги, поэтому ничего не забронировано. "
            "Посмотрите новые условия и подтвердите ещё раз."
        ),
        no_online_payment=(
            "Эта услуга оплачивается онлайн, а онлайн-оплата сейчас недоступна, поэтому забронировать её здесь "
            "нельзя. Чтобы забронировать её, свяжитесь с компанией напрямую."
        ),
        dates_out_of_range="Даты должны быть в диапазоне от {first} до {last}.",
        not_a_date="'{field}' должно быть датой вида 2026-03-09.",
        not_a_time="'{field}' должно быть временем вида 2026-03-09T09:00.",
        days_range="'days' должно быть от 1 до {limit}.",
        unknown_frame="Неизвестный фрейм бронирования.",
        not_a_decision="Это не решение по предложению.",
        proposal_expired="Срок действия этого предложения истёк; попросите ещё раз, чтобы получить новое.",
        nothing_changed="Хорошо, ничего не изменено.",
        summary_book="Записать {name} ({email}) на «{service}»: {when}.",
        summary_cancel="Отменить «{service}» на {when} ({code}).",
        summary_reschedule="Перенести «{service}» ({code}) с {old} на {new}.",
        price_online="Цена {price}, оплата картой сразу после подтверждения.",
        price_at_venue="Оплата на месте: {price}.",
        booked="Забронировано! Ваш код подтверждения: {code}. Мы отправили подробности на вашу электронную почту.",
        held_until_paid="Почти готово! Ваше бронирование {code} удерживается до оплаты.",
        canceled="Ваше бронирование отменено.",
        moved="Ваше бронирование перенесено на {when}.",
    ),
}
