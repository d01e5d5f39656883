# ruff: noqa: RUF001 (Cyrillic letters are the point of this table)
"""The booking sentences in the European languages: English (today's messages, word for word), Spanish,
French, German, Portuguese, Italian, Dutch and Russian."""

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
    "es": BookingPhrases(
        booking_not_found=(
            "No encontramos ninguna reserva con ese código de confirmación y ese correo electrónico. Compruebe ambos."
        ),
        slot_taken="Lo sentimos, ese horario ya no está disponible. Elija otro.",
        service_not_found="Ese servicio no está disponible para reservar.",
        not_upcoming="Solo se pueden modificar las reservas futuras; esta ya ha comenzado.",
        hold_ran_out="Esta reserva no se pagó a tiempo, así que su horario quedó libre. Vuelva a reservar el servicio.",
        cannot_cancel="Esta reserva ya no se puede cancelar.",
        nothing_to_cancel="Esta reserva no está activa, así que no hay nada que cancelar.",
        cannot_reschedule="Solo se pueden cambiar de fecha las reservas futuras.",
        name_missing="Indique el nombre con el que debe hacerse la reserva.",
        bad_email="Indique una dirección de correo electrónico válida para la confirmación.",
        bad_start="Esa hora de inicio no es válida; elija una hora de la lista de horarios libres.",
        too_many_attempts=(
            "Demasiados intentos fallidos de encontrar una reserva. Espere un rato o pida hablar con una persona."
        ),
        cannot_count=(
            "Ahora mismo no podemos comprobar los datos de la reserva. Vuelva a intentarlo en unos minutos o pida "
            "hablar con una persona."
        ),
        proposal_not_found="Esa propuesta no existe o ya ha sido sustituida.",
        details_changed=(
            "El precio o la duración del servicio han cambiado desde esta propuesta, así que no se ha reservado "
            "nada. Revise los nuevos datos y vuelva a confirmar."
        ),
        no_online_payment=(
            "Este servicio se paga en línea y el pago en línea no está disponible en este momento, así que no se "
            "puede reservar aquí. Póngase en contacto con el negocio para reservarlo."
        ),
        dates_out_of_range="Las fechas deben estar entre {first} y {last}.",
        not_a_date="'{field}' debe ser una fecha como 2026-03-09.",
        not_a_time="'{field}' debe ser una hora como 2026-03-09T09:00.",
        days_range="'days' debe estar entre 1 y {limit}.",
        unknown_frame="Trama de reserva desconocida.",
        not_a_decision="No es una decisión sobre una propuesta.",
        proposal_expired="Esta propuesta ha caducado; vuelva a pedirla para obtener una nueva.",
        nothing_changed="De acuerdo, no se ha cambiado nada.",
        summary_book="Reservar {service} el {when} para {name} ({email}).",
        summary_cancel="Cancelar {service} del {when} ({code}).",
        summary_reschedule="Mover {service} ({code}) del {old} al {new}.",
        price_online="Precio {price}, que se paga con tarjeta justo después de confirmar.",
        price_at_venue="Pago en el establecimiento: {price}.",
        booked="¡Reservado! Su código de confirmación es {code}. Le hemos enviado los detalles por correo electrónico.",
        held_until_paid="¡Casi listo! Su reserva {code} queda retenida hasta que la pague.",
        canceled="Su reserva está cancelada.",
        moved="Su reserva se ha cambiado al {when}.",
    ),
    "fr": BookingPhrases(
        booking_not_found=(
            "Nous n'avons trouvé aucune réservation avec ce code de confirmation et cette adresse e-mail. "
            "Veuillez vérifier les deux."
        ),
        slot_taken="Désolé, ce créneau n'est plus disponible. Veuillez en choisir un autre.",
        service_not_found="Ce service ne peut pas être réservé.",
        not_upcoming="Seules les réservations à venir peuvent être modifiées ; celle-ci a déjà commencé.",
        hold_ran_out=(
            "Cette réservation n'a pas été payée à temps, son créneau a donc été libéré. "
            "Veuillez réserver à nouveau le service."
        ),
        cannot_cancel="Cette réservation ne peut plus être annulée.",
        nothing_to_cancel="Cette réservation n'est pas active : il n'y a rien à annuler.",
        cannot_reschedule="Seules les réservations à venir peuvent être déplacées.",
        name_missing="Veuillez indiquer le nom sous lequel la réservation doit être faite.",
        bad_email="Veuillez indiquer une adresse e-mail valide pour la confirmation.",
        bad_start="Cette heure de début n'est pas valide ; choisissez une heure dans la liste des créneaux libres.",
        too_many_attempts=(
            "Trop de tentatives infructueuses pour retrouver une réservation. Veuillez patienter un moment, "
            "ou demander à parler à quelqu'un."
        ),
        cannot_count=(
            "Nous ne pouvons pas vérifier les détails de la réservation pour le moment. Veuillez réessayer dans "
            "quelques minutes, ou demander à parler à quelqu'un."
        ),
        proposal_not_found="Cette proposition n'existe pas ou a déjà été remplacée.",
        details_changed=(
            "Le prix ou la durée du service a changé depuis cette proposition, rien n'a donc été réservé. "
            "Veuillez consulter les nouveaux détails et confirmer à nouveau."
        ),
        no_online_payment=(
            "Ce service se paie en ligne et le paiement en ligne n'est pas disponible pour le moment : il ne peut "
            "donc pas être réservé ici. Veuillez contacter l'établissement pour le réserver."
        ),
        dates_out_of_range="Les dates doivent être comprises entre le {first} et le {last}.",
        not_a_date="'{field}' doit être une date comme 2026-03-09.",
        not_a_time="'{field}' doit être une heure comme 2026-03-09T09:00.",
        days_range="'days' doit être compris entre 1 et {limit}.",
        unknown_frame="Trame de réservation inconnue.",
        not_a_decision="Ce n'est pas une décision sur une proposition.",
        proposal_expired="Cette proposition a expiré ; redemandez-la pour en obtenir une nouvelle.",
        nothing_changed="D'accord, rien n'a été modifié.",
        summary_book="Réserver {service} le {when} pour {name} ({email}).",
        summary_cancel="Annuler {service} du {when} ({code}).",
        summary_reschedule="Déplacer {service} ({code}) du {old} au {new}.",
        price_online="Prix {price}, payé par carte juste après votre confirmation.",
        price_at_venue="Paiement sur place : {price}.",
        booked="Réservé ! Votre code de confirmation est {code}. Nous vous avons envoyé les détails par e-mail.",
        held_until_paid="Presque terminé ! Votre réservation {code} est retenue jusqu'à votre paiement.",
        canceled="Votre réservation est annulée.",
        moved="Votre réservation a été déplacée au {when}.",
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
    "pt": BookingPhrases(
        booking_not_found=(
            "Não encontramos nenhuma reserva com esse código de confirmação e esse e-mail. Verifique os dois."
        ),
        slot_taken="Desculpe, esse horário não está mais disponível. Escolha outro.",
        service_not_found="Esse serviço não está disponível para reserva.",
        not_upcoming="Só é possível alterar reservas futuras; esta já começou.",
        hold_ran_out="Esta reserva não foi paga a tempo, por isso o horário foi liberado. Reserve o serviço novamente.",
        cannot_cancel="Esta reserva não pode mais ser cancelada.",
        nothing_to_cancel="Esta reserva não está ativa, então não há nada para cancelar.",
        cannot_reschedule="Só é possível remarcar reservas futuras.",
        name_missing="Informe o nome em que a reserva deve ficar.",
        bad_email="Informe um endereço de e-mail válido para a confirmação.",
        bad_start="Esse horário de início não é válido; escolha um horário da lista de horários livres.",
        too_many_attempts=(
            "Muitas tentativas sem sucesso de encontrar uma reserva. Aguarde um pouco ou peça para falar com "
            "uma pessoa."
        ),
        cannot_count=(
            "No momento não conseguimos verificar os dados da reserva. Tente novamente em alguns minutos ou peça "
            "para falar com uma pessoa."
        ),
        proposal_not_found="Essa proposta não existe ou já foi substituída.",
        details_changed=(
            "O preço ou a duração do serviço mudou desde esta proposta, por isso nada foi reservado. "
            "Veja os novos detalhes e confirme novamente."
        ),
        no_online_payment=(
            "Este serviço é pago online, e o pagamento online não está disponível no momento, por isso ele não pode "
            "ser reservado aqui. Entre em contato com o estabelecimento para reservá-lo."
        ),
        dates_out_of_range="As datas devem estar entre {first} e {last}.",
        not_a_date="'{field}' deve ser uma data como 2026-03-09.",
        not_a_time="'{field}' deve ser um horário como 2026-03-09T09:00.",
        days_range="'days' deve estar entre 1 e {limit}.",
        unknown_frame="Quadro de reserva desconhecido.",
        not_a_decision="Não é uma decisão sobre uma proposta.",
        proposal_expired="Esta proposta expirou; peça novamente para receber uma nova.",
        nothing_changed="Tudo bem, nada foi alterado.",
        summary_book="Reservar {service} em {when} para {name} ({email}).",
        summary_cancel="Cancelar {service} de {when} ({code}).",
        summary_reschedule="Mudar {service} ({code}) de {old} para {new}.",
        price_online="Preço {price}, pago com cartão logo após a confirmação.",
        price_at_venue="Pagamento no local: {price}.",
        booked="Reservado! Seu código de confirmação é {code}. Enviamos os detalhes para o seu e-mail.",
        held_until_paid="Quase pronto! Sua reserva {code} fica garantida até você pagar.",
        canceled="Sua reserva foi cancelada.",
        moved="Sua reserva foi remarcada para {when}.",
    ),
    "it": BookingPhrases(
        booking_not_found=(
            "Non abbiamo trovato nessuna prenotazione con questo codice di conferma e questa email. Controlli entrambi."
        ),
        slot_taken="Ci dispiace, questo orario non è più disponibile. Scelga un altro orario.",
        service_not_found="Questo servizio non è prenotabile.",
        not_upcoming="Si possono modificare solo le prenotazioni future; questa è già iniziata.",
        hold_ran_out=(
            "Questa prenotazione non è stata pagata in tempo, quindi il suo orario è stato liberato. "
            "Prenoti di nuovo il servizio."
        ),
        cannot_cancel="Questa prenotazione non può più essere annullata.",
        nothing_to_cancel="Questa prenotazione non è attiva, quindi non c'è nulla da annullare.",
        cannot_reschedule="Si possono spostare solo le prenotazioni future.",
        name_missing="Indichi il nome a cui intestare la prenotazione.",
        bad_email="Indichi un indirizzo email valido per la conferma.",
        bad_start="Questo orario di inizio non è valido; scelga un orario dall'elenco degli orari liberi.",
        too_many_attempts=(
            "Troppi tentativi non riusciti di trovare una prenotazione. Attenda un po' o chieda di parlare con "
            "una persona."
        ),
        cannot_count=(
            "Al momento non possiamo verificare i dati della prenotazione. Riprovi tra qualche minuto o chieda di "
            "parlare con una persona."
        ),
        proposal_not_found="Questa proposta non esiste o è già stata sostituita.",
        details_changed=(
            "Il prezzo o la durata del servizio sono cambiati da quando è stata fatta questa proposta, quindi non è "
            "stato prenotato nulla. Controlli i nuovi dettagli e confermi di nuovo."
        ),
        no_online_payment=(
            "Questo servizio si paga online e al momento il pagamento online non è disponibile, quindi non può "
            "essere prenotato qui. Contatti l'attività per prenotarlo."
        ),
        dates_out_of_range="Le date devono essere comprese tra {first} e {last}.",
        not_a_date="'{field}' deve essere una data come 2026-03-09.",
        not_a_time="'{field}' deve essere un orario come 2026-03-09T09:00.",
        days_range="'days' deve essere compreso tra 1 e {limit}.",
        unknown_frame="Frame di prenotazione sconosciuto.",
        not_a_decision="Non è una decisione su una proposta.",
        proposal_expired="Questa proposta è scaduta; la richieda di nuovo per averne una nuova.",
        nothing_changed="Va bene, non è stato modificato nulla.",
        summary_book="Prenotare {service} il {when} per {name} ({email}).",
        summary_cancel="Annullare {service} del {when} ({code}).",
        summary_reschedule="Spostare {service} ({code}) dal {old} al {new}.",
        price_online="Prezzo {price}, da pagare con carta subito dopo la conferma.",
        price_at_venue="Pagamento in sede: {price}.",
        booked="Prenotato! Il codice di conferma è {code}. I dettagli sono stati inviati via e-mail.",
        held_until_paid="Quasi fatto! La prenotazione {code} è tenuta in sospeso fino al pagamento.",
        canceled="La prenotazione è annullata.",
        moved="La prenotazione è stata spostata a {when}.",
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
