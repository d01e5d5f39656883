# ruff: noqa: RUF001 (full-width punctuation and Cyrillic letters are the point of this table)
"""The widget's error sentences, in the customer's language (docs/websocket-protocol.md, "Errors").

An ``error`` frame's ``code`` is the protocol's contract and never changes; its ``message`` is for
the customer to read, so the consumer (and the HTTP fallbacks alike, ``chat/public_language.py``)
writes it in the language of their latest message
(``routing/language.py``), as the assistant's own sentences (``routing/phrases.py``): English until
they have written, or when their language has no row here. Field names, frame types and ``"up"`` /
``"down"`` are the protocol's words and stay as they are. Every row has every sentence with the
same placeholders as English (a test holds it to that).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from routing.language import DEFAULT


class ErrorText(StrEnum):
    """Which sentence: the name of an ``ErrorPhrases`` field."""

    BINARY = "binary"
    FRAME_TOO_LONG = "frame_too_long"
    NOT_JSON = "not_json"
    UNKNOWN_TYPE = "unknown_type"
    NOT_STRING = "not_string"
    NOT_TEXT = "not_text"
    REQUIRED = "required"
    FIELD_TOO_LONG = "field_too_long"
    NOT_INTEGER = "not_integer"
    FEEDBACK_VALUE = "feedback_value"
    RATING_RANGE = "rating_range"
    BAD_PHONE = "bad_phone"
    BAD_EMAIL = "bad_email"
    FRAME_FLOOD = "frame_flood"
    TOO_QUICKLY = "too_quickly"
    NETWORK_BUSY = "network_busy"
    MESSAGE_NOT_FOUND = "message_not_found"
    FEEDBACK_TOO_EARLY = "feedback_too_early"
    FEEDBACK_ON_FAILED = "feedback_on_failed"
    CLIENT_ID_REUSED = "client_id_reused"
    INTERNAL = "internal"
    USE_POST = "use_post"
    BODY_TOO_LONG = "body_too_long"
    BODY_NOT_JSON = "body_not_json"
    BAD_CONTENT_LENGTH = "bad_content_length"
    UNKNOWN_KEY = "unknown_key"
    FOREIGN_ORIGIN = "foreign_origin"


@dataclass(frozen=True)
class ErrorPhrases:
    binary: str  # a binary frame
    frame_too_long: str  # {limit}: bytes
    not_json: str  # not JSON, or JSON that is not an object
    unknown_type: str  # {kind}: the type the client sent, quoted and cut to 40 characters
    not_string: str  # {field}
    not_text: str  # {field}: a NUL or half a surrogate pair, which PostgreSQL cannot store
    required: str  # {field}
    field_too_long: str  # {field}, {limit}: characters
    not_integer: str  # {field}
    feedback_value: str
    rating_range: str
    bad_phone: str  # escalate's phone: letters, other signs, or fewer than 7 or more than 15 digits
    bad_email: str  # escalate's email: not an email address (Django's validate_email)
    frame_flood: str  # then the socket is closed with 4429
    too_quickly: str  # more messages a minute than this connection may send
    network_busy: str  # more messages a minute than the customer's address may send
    message_not_found: str  # feedback on a message that is not an answer of this conversation
    feedback_too_early: str  # feedback on an answer still streaming
    feedback_on_failed: str  # feedback on an answer that failed
    client_id_reused: str  # message.send with the client_id of another message of the conversation
    internal: str  # our own code failed on the frame
    # The public HTTP endpoints' errors about the request itself, most found before its tenant is known
    # (chat/public_http.py): said in the language of its Accept-Language header.
    use_post: str  # another method than POST (or OPTIONS)
    body_too_long: str  # {limit}: bytes
    body_not_json: str  # not UTF-8, not JSON, or JSON that is not an object
    bad_content_length: str  # a Content-Length header that is no number
    unknown_key: str  # the body's widget key is no tenant's
    foreign_origin: str  # the Origin is not one of the tenant's


ERROR_PHRASES: dict[str, ErrorPhrases] = {
    "en": ErrorPhrases(
        binary="Send JSON text frames, not binary.",
        frame_too_long="Frames are limited to {limit} bytes.",
        not_json="Frames must be JSON objects.",
        unknown_type="Unknown frame type {kind}.",
        not_string="'{field}' must be a string.",
        not_text="'{field}' contains a character that is not text.",
        required="'{field}' is required.",
        field_too_long="'{field}' is longer than {limit} characters.",
        not_integer="'{field}' must be an integer.",
        feedback_value='\'value\' must be "up" or "down".',
        rating_range="'rating' must be between 1 and 5.",
        bad_phone="'phone' must be a phone number: 7 to 15 digits, with an optional leading +.",
        bad_email="That email address doesn't look right.",
        frame_flood="Too many frames; this connection is closed.",
        too_quickly="You are sending messages too quickly; wait a moment.",
        network_busy="Too many messages from your network; wait a minute.",
        message_not_found="No such answer in this conversation.",
        feedback_too_early="Feedback can be given once the answer is complete.",
        feedback_on_failed="Feedback cannot be given on a failed answer.",
        client_id_reused="'client_id' was already used for another message in this conversation.",
        internal="Something went wrong on our side. Please try again.",
        use_post="Use POST.",
        body_too_long="The request body is limited to {limit:,} bytes of UTF-8, like a websocket frame.",
        body_not_json="The body must be a JSON object, sent as UTF-8.",
        bad_content_length="The Content-Length header must be a number of bytes.",
        unknown_key="Unknown widget key.",
        foreign_origin="This website may not use this chat.",
    ),
    "es": ErrorPhrases(
        binary="Envíe tramas de texto JSON, no binarias.",
        frame_too_long="Las tramas están limitadas a {limit} bytes.",
        not_json="Las tramas deben ser objetos JSON.",
        unknown_type="Tipo de trama desconocido: {kind}.",
        not_string="'{field}' debe ser un texto.",
        not_text="'{field}' contiene un carácter que no es texto.",
        required="'{field}' es obligatorio.",
        field_too_long="'{field}' supera los {limit} caracteres.",
        not_integer="'{field}' debe ser un número entero.",
        feedback_value='\'value\' debe ser "up" o "down".',
        rating_range="'rating' debe estar entre 1 y 5.",
        bad_phone="'phone' debe ser un número de teléfono: de 7 a 15 dígitos, opcionalmente precedidos de +.",
        bad_email="Esa dirección de correo electrónico no parece correcta.",
        frame_flood="Demasiadas tramas; esta conexión se ha cerrado.",
        too_quickly="Está enviando mensajes demasiado rápido; espere un momento.",
        network_busy="Demasiados mensajes desde su red; espere un minuto.",
        message_not_found="No existe esa respuesta en esta conversación.",
        feedback_too_early="Podrá valorar la respuesta cuando esté completa.",
        feedback_on_failed="No se puede valorar una respuesta que ha fallado.",
        client_id_reused="'client_id' ya se usó para otro mensaje de esta conversación.",
        internal="Algo ha fallado por nuestra parte. Vuelva a intentarlo.",
        use_post="Use POST.",
        body_too_long="El cuerpo de la solicitud está limitado a {limit} bytes de UTF-8, como una trama de websocket.",
        body_not_json="El cuerpo debe ser un objeto JSON, enviado en UTF-8.",
        bad_content_length="La cabecera Content-Length debe ser un número de bytes.",
        unknown_key="Clave de widget desconocida.",
        foreign_origin="Este sitio web no puede usar este chat.",
    ),
    "fr": ErrorPhrases(
        binary="Envoyez des trames texte JSON, pas binaires.",
        frame_too_long="Les trames sont limitées à {limit} octets.",
        not_json="Les trames doivent être des objets JSON.",
        unknown_type="Type de trame inconnu : {kind}.",
        not_string="'{field}' doit être une chaîne de caractères.",
        not_text="'{field}' contient un caractère qui n'est pas du texte.",
        required="'{field}' est obligatoire.",
        field_too_long="'{field}' dépasse {limit} caractères.",
        not_integer="'{field}' doit être un nombre entier.",
        feedback_value='\'value\' doit valoir "up" ou "down".',
        rating_range="'rating' doit être compris entre 1 et 5.",
        bad_phone="'phone' doit être un numéro de téléphone : 7 à 15 chiffres, éventuellement précédés de +.",
        bad_email="Cette adresse e-mail ne semble pas correcte.",
        frame_flood="Trop de trames ; cette connexion est fermée.",
        too_quickly="Vous envoyez des messages trop rapidement ; patientez un instant.",
        network_busy="Trop de messages depuis votre réseau ; patientez une minute.",
        message_not_found="Cette réponse n'existe pas dans cette conversation.",
        feedback_too_early="Vous pourrez donner votre avis une fois la réponse terminée.",
        feedback_on_failed="Impossible de donner un avis sur une réponse qui a échoué.",
        client_id_reused="'client_id' a déjà servi pour un autre message de cette conversation.",
        internal="Un problème est survenu de notre côté. Veuillez réessayer.",
        use_post="Utilisez POST.",
        body_too_long="Le corps de la requête est limité à {limit} octets d'UTF-8, comme une trame websocket.",
        body_not_json="Le corps doit être un objet JSON, envoyé en UTF-8.",
        bad_content_length="L'en-tête Content-Length doit être un nombre d'octets.",
        unknown_key="Clé de widget inconnue.",
        foreign_origin="Ce site web n'est pas autorisé à utiliser ce chat.",
    ),
    "de": ErrorPhrases(
        binary="Bitte senden Sie JSON-Textframes, keine Binärdaten.",
        frame_too_long="Frames sind auf {limit} Bytes begrenzt.",
        not_json="Frames müssen JSON-Objekte sein.",
        unknown_type="Unbekannter Frame-Typ {kind}.",
        not_string="'{field}' muss ein Text sein.",
        not_text="'{field}' enthält ein Zeichen, das kein Text ist.",
        required="'{field}' ist erforderlich.",
        field_too_long="'{field}' ist länger als {limit} Zeichen.",
        not_integer="'{field}' muss eine ganze Zahl sein.",
        feedback_value='\'value\' muss "up" oder "down" sein.',
        rating_range="'rating' muss zwischen 1 und 5 liegen.",
        bad_phone="'phone' muss eine Telefonnummer sein: 7 bis 15 Ziffern, optional mit führendem +.",
        bad_email="Diese E-Mail-Adresse scheint nicht zu stimmen.",
        frame_flood="Zu viele Frames; diese Verbindung wird geschlossen.",
        too_quickly="Sie senden Nachrichten zu schnell; bitte warten Sie einen Moment.",
        network_busy="Zu viele Nachrichten aus Ihrem Netzwerk; bitte warten Sie eine Minute.",
        message_not_found="Diese Antwort gibt es in diesem Gespräch nicht.",
        feedback_too_early="Feedback ist möglich, sobald die Antwort vollständig ist.",
        feedback_on_failed="Zu einer fehlgeschlagenen Antwort ist kein Feedback möglich.",
        client_id_reused="'client_id' wurde in diesem Gespräch schon für eine andere Nachricht verwendet.",
        internal="Bei uns ist etwas schiefgelaufen. Bitte versuchen Sie es erneut.",
        use_post="Bitte verwenden Sie POST.",
        body_too_long="Der Anfragetext ist auf {limit} Bytes UTF-8 begrenzt, wie ein Websocket-Frame.",
        body_not_json="Der Anfragetext muss ein JSON-Objekt sein, gesendet als UTF-8.",
        bad_content_length="Der Content-Length-Header muss eine Anzahl von Bytes sein.",
        unknown_key="Unbekannter Widget-Schlüssel.",
        foreign_origin="Diese Website darf diesen Chat nicht verwenden.",
    ),
    "pt": ErrorPhrases(
        binary="Envie quadros de texto JSON, não binários.",
        frame_too_long="Os quadros estão limitados a {limit} bytes.",
        not_json="Os quadros devem ser objetos JSON.",
        unknown_type="Tipo de quadro desconhecido: {kind}.",
        not_string="'{field}' deve ser um texto.",
        not_text="'{field}' contém um caractere que não é texto.",
        required="'{field}' é obrigatório.",
        field_too_long="'{field}' tem mais de {limit} caracteres.",
        not_integer="'{field}' deve ser um número inteiro.",
        feedback_value='\'value\' deve ser "up" ou "down".',
        rating_range="'rating' deve estar entre 1 e 5.",
        bad_phone="'phone' deve ser um número de telefone: de 7 a 15 dígitos, opcionalmente precedidos de +.",
        bad_email="Esse endereço de e-mail não parece correto.",
        frame_flood="Quadros demais; esta conexão foi encerrada.",
        too_quickly="Você está enviando mensagens rápido demais; aguarde um momento.",
        network_busy="Mensagens demais a partir da sua rede; aguarde um minuto.",
        message_not_found="Essa resposta não existe nesta conversa.",
        feedback_too_early="Você poderá avaliar a resposta quando ela estiver completa.",
        feedback_on_failed="Não é possível avaliar uma resposta que falhou.",
        client_id_reused="'client_id' já foi usado para outra mensagem nesta conversa.",
        internal="Algo deu errado do nosso lado. Tente novamente.",
        use_post="Use POST.",
        body_too_long="O corpo da solicitação está limitado a {limit} bytes de UTF-8, como um quadro de websocket.",
        body_not_json="O corpo deve ser um objeto JSON, enviado em UTF-8.",
        bad_content_length="O cabeçalho Content-Length deve ser um número de bytes.",
        unknown_key="Chave de widget desconhecida.",
        foreign_origin="Este site não pode usar este chat.",
    ),
    "it": ErrorPhrases(
        binary="Invii frame di testo JSON, non binari.",
        frame_too_long="I frame sono limitati a {limit} byte.",
        not_json="I frame devono essere oggetti JSON.",
        unknown_type="Tipo di frame sconosciuto: {kind}.",
        not_string="'{field}' deve essere un testo.",
        not_text="'{field}' contiene un carattere che non è testo.",
        required="'{field}' è obbligatorio.",
        field_too_long="'{field}' supera i {limit} caratteri.",
        not_integer="'{field}' deve essere un numero intero.",
        feedback_value='\'value\' deve essere "up" o "down".',
        rating_range="'rating' deve essere compreso tra 1 e 5.",
        bad_phone="'phone' deve essere un numero di telefono: da 7 a 15 cifre, eventualmente precedute da +.",
        bad_email="Questo indirizzo email non sembra corretto.",
        frame_flood="Troppi frame; questa connessione è stata chiusa.",
        too_quickly="Sta inviando messaggi troppo rapidamente; attenda un momento.",
        network_busy="Troppi messaggi dalla sua rete; attenda un minuto.",
        message_not_found="Questa risposta non esiste in questa conversazione.",
        feedback_too_early="Potrà dare un feedback quando la risposta sarà completa.",
        feedback_on_failed="Non è possibile dare un feedback su una risposta non riuscita.",
        client_id_reused="'client_id' è già stato usato per un altro messaggio in questa conversazione.",
        internal="Qualcosa è andato storto da parte nostra. Riprovi.",
        use_post="Usi POST.",
        body_too_long="Il corpo della richiesta è limitato a {limit} byte di UTF-8, come un frame websocket.",
        body_not_json="Il corpo deve essere un oggetto JSON, inviato in UTF-8.",
        bad_content_length="L'intestazione Content-Length deve essere un numero di byte.",
        unknown_key="Chiave del widget sconosciuta.",
        foreign_origin="Questo sito web non può usare questa chat.",
    ),
    "nl": ErrorPhrases(
        binary="Stuur JSON-tekstframes, geen binaire frames.",
        frame_too_long="Frames zijn beperkt tot {limit} bytes.",
        not_json="Frames moeten JSON-objecten zijn.",
        unknown_type="Onbekend frametype {kind}.",
        not_string="'{field}' moet tekst zijn.",
        not_text="'{field}' bevat een teken dat geen tekst is.",
        required="'{field}' is verplicht.",
        field_too_long="'{field}' is langer dan {limit} tekens.",
        not_integer="'{field}' moet een geheel getal zijn.",
        feedback_value='\'value\' moet "up" of "down" zijn.',
        rating_range="'rating' moet tussen 1 en 5 liggen.",
        bad_phone="'phone' moet een telefoonnummer zijn: 7 tot 15 cijfers, eventueel met een + ervoor.",
        bad_email="Dat e-mailadres lijkt niet te kloppen.",
        frame_flood="Te veel frames; deze verbinding wordt gesloten.",
        too_quickly="U stuurt te snel berichten; wacht even.",
        network_busy="Te veel berichten vanaf uw netwerk; wacht een minuut.",
        message_not_found="Dat antwoord bestaat niet in dit gesprek.",
        feedback_too_early="U kunt feedback geven zodra het antwoord compleet is.",
        feedback_on_failed="Op een mislukt antwoord kunt u geen feedback geven.",
        client_id_reused="'client_id' is in dit gesprek al gebruikt voor een ander bericht.",
        internal="Er ging bij ons iets mis. Probeer het opnieuw.",
        use_post="Gebruik POST.",
        body_too_long="De body van het verzoek is beperkt tot {limit} bytes UTF-8, zoals een websocketframe.",
        body_not_json="De body moet een JSON-object zijn, verzonden als UTF-8.",
        bad_content_length="De Content-Length-header moet een aantal bytes zijn.",
        unknown_key="Onbekende widgetsleutel.",
        foreign_origin="Deze website mag deze chat niet gebruiken.",
    ),
    "ja": ErrorPhrases(
        binary="バイナリではなく、JSONのテキストフレームを送信してください。",
        frame_too_long="フレームは{limit}バイトまでです。",
        not_json="フレームはJSONオブジェクトである必要があります。",
        unknown_type="不明なフレームの種類です：{kind}。",
        not_string="'{field}' は文字列で指定してください。",
        not_text="'{field}' に文字として扱えない文字が含まれています。",
        required="'{field}' は必須です。",
        field_too_long="'{field}' は{limit}文字以内で入力してください。",
        not_integer="'{field}' は整数で指定してください。",
        feedback_value='\'value\' は "up" または "down" を指定してください。',
        rating_range="'rating' は1から5の間で指定してください。",
        bad_phone="'phone' は電話番号で指定してください（7〜15桁の数字、先頭に + も使えます）。",
        bad_email="そのメールアドレスは正しくないようです。",
        frame_flood="フレームが多すぎるため、この接続を終了します。",
        too_quickly="メッセージの送信が速すぎます。少しお待ちください。",
        network_busy="お使いのネットワークからのメッセージが多すぎます。1分ほどお待ちください。",
        message_not_found="この会話にそのような回答はありません。",
        feedback_too_early="回答が完了してから評価してください。",
        feedback_on_failed="失敗した回答は評価できません。",
        client_id_reused="'client_id' はこの会話の別のメッセージですでに使われています。",
        internal="申し訳ありません。当社側で問題が発生しました。もう一度お試しください。",
        use_post="POSTを使用してください。",
        body_too_long="リクエスト本文は、WebSocketのフレームと同じくUTF-8で{limit}バイトまでです。",
        body_not_json="本文はUTF-8で送信されたJSONオブジェクトである必要があります。",
        bad_content_length="Content-Lengthヘッダーはバイト数である必要があります。",
        unknown_key="不明なウィジェットキーです。",
        foreign_origin="このウェブサイトではこのチャットを使用できません。",
    ),
    "zh": ErrorPhrases(
        binary="请发送JSON文本帧，而不是二进制帧。",
        frame_too_long="每帧最多{limit}字节。",
        not_json="帧必须是JSON对象。",
        unknown_type="未知的帧类型：{kind}。",
        not_string="'{field}' 必须是字符串。",
        not_text="'{field}' 包含无法识别为文本的字符。",
        required="'{field}' 为必填项。",
        field_too_long="'{field}' 超过了{limit}个字符。",
        not_integer="'{field}' 必须是整数。",
        feedback_value='\'value\' 必须是 "up" 或 "down"。',
        rating_range="'rating' 必须在1到5之间。",
        bad_phone="'phone' 必须是电话号码：7到15位数字，开头可带 +。",
        bad_email="该电子邮件地址似乎不正确。",
        frame_flood="帧过多，此连接已关闭。",
        too_quickly="您发送消息过快，请稍候。",
        network_busy="来自您网络的消息过多，请稍等一分钟。",
        message_not_found="此对话中没有该回答。",
        feedback_too_early="回答完成后才能提供反馈。",
        feedback_on_failed="无法对失败的回答提供反馈。",
        client_id_reused="'client_id' 已用于此对话中的另一条消息。",
        internal="抱歉，我们这边出了问题。请重试。",
        use_post="请使用POST。",
        body_too_long="请求正文最多{limit}字节的UTF-8，与WebSocket帧相同。",
        body_not_json="正文必须是以UTF-8发送的JSON对象。",
        bad_content_length="Content-Length标头必须是字节数。",
        unknown_key="未知的小组件密钥。",
        foreign_origin="此网站不能使用此聊天。",
    ),
    "zh-Hant": ErrorPhrases(
        binary="請傳送JSON文字訊框，而不是二進位訊框。",
        frame_too_long="每個訊框最多{limit}位元組。",
        not_json="訊框必須是JSON物件。",
        unknown_type="未知的訊框類型：{kind}。",
        not_string="'{field}' 必須是字串。",
        not_text="'{field}' 包含無法識別為文字的字元。",
        required="'{field}' 為必填欄位。",
        field_too_long="'{field}' 超過了{limit}個字元。",
        not_integer="'{field}' 必須是整數。",
        feedback_value='\'value\' 必須是 "up" 或 "down"。',
        rating_range="'rating' 必須介於1到5之間。",
        bad_phone="'phone' 必須是電話號碼：7到15位數字，開頭可加 +。",
        bad_email="該電子郵件地址似乎不正確。",
        frame_flood="訊框過多，此連線已關閉。",
        too_quickly="您傳送訊息的速度太快，請稍候。",
        network_busy="來自您網路的訊息過多，請稍等一分鐘。",
        message_not_found="此對話中沒有該回答。",
        feedback_too_early="回答完成後才能提供意見回饋。",
        feedback_on_failed="無法對失敗的回答提供意見回饋。",
        client_id_reused="'client_id' 已用於此對話中的另一則訊息。",
        internal="抱歉，我們這邊出了問題。請重試。",
        use_post="請使用POST。",
        body_too_long="請求內文最多{limit}位元組的UTF-8，與WebSocket訊框相同。",
        body_not_json="內文必須是以UTF-8傳送的JSON物件。",
        bad_content_length="Content-Length標頭必須是位元組數。",
        unknown_key="未知的小工具金鑰。",
        foreign_origin="此網站不能使用此聊天。",
    ),
    "ko": ErrorPhrases(
        binary="바이너리가 아닌 JSON 텍스트 프레임을 보내 주세요.",
        frame_too_long="프레임은 {limit}바이트까지 보낼 수 있습니다.",
        not_json="프레임은 JSON 객체여야 합니다.",
        unknown_type="알 수 없는 프레임 유형입니다: {kind}.",
        not_string="'{field}'은(는) 문자열이어야 합니다.",
        not_text="'{field}'에 텍스트가 아닌 문자가 있습니다.",
        required="'{field}'은(는) 필수입니다.",
        field_too_long="'{field}'이(가) {limit}자를 넘습니다.",
        not_integer="'{field}'은(는) 정수여야 합니다.",
        feedback_value='\'value\'는 "up" 또는 "down"이어야 합니다.',
        rating_range="'rating'은 1에서 5 사이여야 합니다.",
        bad_phone="'phone'은(는) 전화번호여야 합니다: 7~15자리 숫자, 앞에 +를 붙일 수 있습니다.",
        bad_email="이메일 주소가 올바르지 않은 것 같습니다.",
        frame_flood="프레임이 너무 많아 이 연결을 종료합니다.",
        too_quickly="메시지를 너무 빨리 보내고 있습니다. 잠시 기다려 주세요.",
        network_busy="사용 중인 네트워크에서 메시지가 너무 많습니다. 1분 정도 기다려 주세요.",
        message_not_found="이 대화에 해당 답변이 없습니다.",
        feedback_too_early="답변이 완료된 후에 피드백을 남길 수 있습니다.",
        feedback_on_failed="실패한 답변에는 피드백을 남길 수 없습니다.",
        client_id_reused="'client_id'은(는) 이 대화의 다른 메시지에 이미 사용되었습니다.",
        internal="죄송합니다. 저희 쪽에서 문제가 발생했습니다. 다시 시도해 주세요.",
        use_post="POST를 사용해 주세요.",
        body_too_long="요청 본문은 웹소켓 프레임처럼 UTF-8로 {limit}바이트까지 보낼 수 있습니다.",
        body_not_json="본문은 UTF-8로 보낸 JSON 객체여야 합니다.",
        bad_content_length="Content-Length 헤더는 바이트 수여야 합니다.",
        unknown_key="알 수 없는 위젯 키입니다.",
        foreign_origin="이 웹사이트에서는 이 채팅을 사용할 수 없습니다.",
    ),
    "ru": ErrorPhrases(
        binary="Отправляйте текстовые JSON-фреймы, а не двоичные.",
        frame_too_long="Размер фрейма ограничен {limit} байтами.",
        not_json="Фреймы должны быть JSON-объектами.",
        unknown_type="Неизвестный тип фрейма: {kind}.",
        not_string="'{field}' должно быть строкой.",
        not_text="'{field}' содержит символ, который не является текстом.",
        required="'{field}' — обязательное поле.",
        field_too_long="'{field}' длиннее {limit} символов.",
        not_integer="'{field}' должно быть целым числом.",
        feedback_value='\'value\' должно быть "up" или "down".',
        rating_range="'rating' должно быть от 1 до 5.",
        bad_phone="'phone' должно быть номером телефона: от 7 до 15 цифр, можно с + в начале.",
        bad_email="Похоже, адрес электронной почты указан неверно.",
        frame_flood="Слишком много фреймов; соединение закрыто.",
        too_quickly="Вы отправляете сообщения слишком часто; подождите немного.",
        network_busy="Слишком много сообщений из вашей сети; подождите минуту.",
        message_not_found="В этом разговоре нет такого ответа.",
        feedback_too_early="Оценить ответ можно, когда он будет готов.",
        feedback_on_failed="Нельзя оценить ответ, который не удался.",
        client_id_reused="'client_id' уже использован для другого сообщения в этом разговоре.",
        internal="У нас что-то пошло не так. Попробуйте ещё раз.",
        use_post="Используйте POST.",
        body_too_long="Тело запроса ограничено {limit} байтами UTF-8, как websocket-фрейм.",
        body_not_json="Тело запроса должно быть JSON-объектом в кодировке UTF-8.",
        bad_content_length="Заголовок Content-Length должен быть числом байтов.",
        unknown_key="Неизвестный ключ виджета.",
        foreign_origin="Этому сайту нельзя использовать этот чат.",
    ),
    "th": ErrorPhrases(
        binary="โปรดส่งเฟรมข้อความ JSON ไม่ใช่ข้อมูลไบนารี",
        frame_too_long="เฟรมมีขนาดได้ไม่เกิน {limit} ไบต์",
        not_json="เฟรมต้องเป็นออบเจ็กต์ JSON",
        unknown_type="ไม่รู้จักประเภทเฟรม {kind}",
        not_string="'{field}' ต้องเป็นข้อความ",
        not_text="'{field}' มีอักขระที่ไม่ใช่ข้อความ",
        required="ต้องระบุ '{field}'",
        field_too_long="'{field}' ยาวเกิน {limit} ตัวอักษร",
        not_integer="'{field}' ต้องเป็นจำนวนเต็ม",
        feedback_value='\'value\' ต้องเป็น "up" หรือ "down"',
        rating_range="'rating' ต้องอยู่ระหว่าง 1 ถึง 5",
        bad_phone="'phone' ต้องเป็นหมายเลขโทรศัพท์ ตัวเลข 7 ถึง 15 หลัก ขึ้นต้นด้วย + ได้",
        bad_email="ที่อยู่อีเมลนี้ดูเหมือนจะไม่ถูกต้อง",
        frame_flood="มีเฟรมมากเกินไป จึงปิดการเชื่อมต่อนี้",
        too_quickly="คุณส่งข้อความเร็วเกินไป โปรดรอสักครู่",
        network_busy="มีข้อความจากเครือข่ายของคุณมากเกินไป โปรดรอหนึ่งนาที",
        message_not_found="ไม่มีคำตอบนี้ในบทสนทนานี้",
        feedback_too_early="คุณให้ความคิดเห็นได้เมื่อคำตอบเสร็จสมบูรณ์แล้ว",
        feedback_on_failed="ไม่สามารถให้ความคิดเห็นกับคำตอบที่ล้มเหลวได้",
        client_id_reused="'client_id' ถูกใช้กับข้อความอื่นในบทสนทนานี้แล้ว",
        internal="ขออภัย เกิดข้อผิดพลาดในระบบของเรา โปรดลองอีกครั้ง",
        use_post="โปรดใช้ POST",
        body_too_long="เนื้อหาคำขอมีขนาดได้ไม่เกิน {limit} ไบต์ของ UTF-8 เช่นเดียวกับเฟรม websocket",
        body_not_json="เนื้อหาคำขอต้องเป็นออบเจ็กต์ JSON ที่ส่งเป็น UTF-8",
        bad_content_length="ส่วนหัว Content-Length ต้องเป็นจำนวนไบต์",
        unknown_key="ไม่รู้จักคีย์วิดเจ็ตนี้",
        foreign_origin="เว็บไซต์นี้ไม่ได้รับอนุญาตให้ใช้แชทนี้",
    ),
    "hi": ErrorPhrases(
        binary="कृपया बाइनरी नहीं, JSON टेक्स्ट फ़्रेम भेजें।",
        frame_too_long="फ़्रेम अधिकतम {limit} बाइट का हो सकता है।",
        not_json="फ़्रेम JSON ऑब्जेक्ट होने चाहिए।",
        unknown_type="अज्ञात फ़्रेम प्रकार: {kind}।",
        not_string="'{field}' टेक्स्ट होना चाहिए।",
        not_text="'{field}' में ऐसा वर्ण है जो टेक्स्ट नहीं है।",
        required="'{field}' आवश्यक है।",
        field_too_long="'{field}' {limit} अक्षरों से लंबा है।",
        not_integer="'{field}' पूर्णांक होना चाहिए।",
        feedback_value='\'value\' "up" या "down" होना चाहिए।',
        rating_range="'rating' 1 से 5 के बीच होनी चाहिए।",
        bad_phone="'phone' फ़ोन नंबर होना चाहिए: 7 से 15 अंक, शुरुआत में + लगा सकते हैं।",
        bad_email="यह ईमेल पता सही नहीं लगता।",
        frame_flood="बहुत अधिक फ़्रेम; यह कनेक्शन बंद किया जा रहा है।",
        too_quickly="आप बहुत तेज़ी से संदेश भेज रहे हैं; कृपया थोड़ा रुकें।",
        network_busy="आपके नेटवर्क से बहुत अधिक संदेश आ रहे हैं; कृपया एक मिनट रुकें।",
        message_not_found="इस बातचीत में ऐसा कोई उत्तर नहीं है।",
        feedback_too_early="उत्तर पूरा होने के बाद ही प्रतिक्रिया दी जा सकती है।",
        feedback_on_failed="विफल उत्तर पर प्रतिक्रिया नहीं दी जा सकती।",
        client_id_reused="'client_id' इस बातचीत में किसी दूसरे संदेश के लिए पहले ही इस्तेमाल हो चुका है।",
        internal="क्षमा करें, हमारी ओर से कुछ गड़बड़ हो गई। कृपया फिर से प्रयास करें।",
        use_post="कृपया POST का उपयोग करें।",
        body_too_long="अनुरोध का मुख्य भाग websocket फ़्रेम की तरह UTF-8 के अधिकतम {limit} बाइट का हो सकता है।",
        body_not_json="मुख्य भाग UTF-8 में भेजा गया JSON ऑब्जेक्ट होना चाहिए।",
        bad_content_length="Content-Length हेडर बाइट्स की संख्या होना चाहिए।",
        unknown_key="अज्ञात विजेट कुंजी।",
        foreign_origin="यह वेबसाइट इस चैट का उपयोग नहीं कर सकती।",
    ),
}


def error_message(text: ErrorText, *, language: str, **params: object) -> str:
    """``text`` in ``language`` (English when it has no row), its placeholders filled from ``params``."""
    phrases = ERROR_PHRASES.get(language, ERROR_PHRASES[DEFAULT])
    sentence: str = getattr(phrases, text.value)
    return sentence.format(**params)
