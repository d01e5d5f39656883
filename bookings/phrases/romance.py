"""The booking sentences in the Romance languages: Spanish, French, Portuguese and Italian."""

from __future__ import annotations

from bookings.phrases.sentences import BookingPhrases

ROMANCE: dict[str, BookingPhrases] = {
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
}
