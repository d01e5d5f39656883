# ruff: noqa: RUF001 (Cyrillic letters and full-width punctuation are the point of this table)
"""The assistant's own fixed sentences, in the customer's language.

Models are told to reply in the customer's language (``prompts/templates.py``); these are the
sentences we write ourselves, around or instead of a model's answer. ``phrases_for`` picks them by
the language of the customer's message (``routing/language.py``), English when that language has no
row here. Add a language by adding a row: every row has every phrase (a test holds it to that).
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.language import DEFAULT, detect_language


@dataclass(frozen=True)
class Phrases:
    not_covered: str  # the ``local`` provider's reply when no passage covers the question
    intro: str  # before several quoted sentences
    partial: str  # after quotes that cover the question only in part
    low_confidence: str  # after an answer no tier was confident of
    interrupted: str  # after an answer cut off mid-stream
    fallback: str  # instead of an answer when every provider failed
    blocked: str  # instead of an answer when the message was an instruction to the assistant
    withheld: str  # instead of an answer that leaked our instructions or a secret
    failed: str  # instead of an answer when our own code failed during the turn (chat/engine.py)


PHRASES: dict[str, Phrases] = {
    "en": Phrases(
        not_covered="I'm sorry, I don't have information about that in our knowledge base, so I'd rather not "
        "guess. Would you like me to connect you with a member of our team?",
        intro="Here is what I found:",
        partial="This may only partly answer your question; I can connect you with a member of our team if you "
        "need more.",
        low_confidence="I'm not fully certain about this; I can connect you with a member of our team if you'd like.",
        interrupted="Sorry, my answer was cut off. Please ask again, or I can connect you with a member of our team.",
        fallback="I'm sorry, I can't answer right now because our assistant is having trouble. Would you like me to "
        "connect you with a member of our team?",
        blocked="I can only help with questions about our services, so I'll leave that one aside. What can I help "
        "you with today?",
        withheld="I'm sorry, I can't share that. I can help with questions about our services, or connect you with a "
        "member of our team.",
        failed="Sorry, something went wrong on our side while answering. Please try again, or ask for a human.",
    ),
    "es": Phrases(
        not_covered="Lo siento, no tengo información sobre eso en nuestra base de conocimientos y prefiero no "
        "adivinar. ¿Quiere que le ponga en contacto con alguien de nuestro equipo?",
        intro="Esto es lo que he encontrado:",
        partial="Puede que esto solo responda en parte a su pregunta; si necesita más, puedo ponerle en contacto "
        "con alguien de nuestro equipo.",
        low_confidence="No estoy del todo seguro de esto; si lo desea, puedo ponerle en contacto con alguien de "
        "nuestro equipo.",
        interrupted="Lo siento, mi respuesta se ha cortado. Vuelva a preguntar, o puedo ponerle en contacto con "
        "alguien de nuestro equipo.",
        fallback="Lo siento, ahora mismo no puedo responder porque nuestro asistente tiene problemas. ¿Quiere que le "
        "ponga en contacto con alguien de nuestro equipo?",
        blocked="Solo puedo ayudar con preguntas sobre nuestros servicios, así que dejaré eso de lado. ¿En qué puedo "
        "ayudarle hoy?",
        withheld="Lo siento, no puedo compartir eso. Puedo ayudarle con preguntas sobre nuestros servicios o ponerle "
        "en contacto con alguien de nuestro equipo.",
        failed="Lo siento, algo ha fallado por nuestra parte al responder. Vuelva a intentarlo o pida hablar con una "
        "persona.",
    ),
    "fr": Phrases(
        not_covered="Je suis désolé, je n'ai pas d'information à ce sujet dans notre base de connaissances et je "
        "préfère ne pas deviner. Souhaitez-vous que je vous mette en relation avec un membre de notre équipe ?",
        intro="Voici ce que j'ai trouvé :",
        partial="Cela ne répond peut-être qu'en partie à votre question ; je peux vous mettre en relation avec un "
        "membre de notre équipe si vous avez besoin de plus.",
        low_confidence="Je n'en suis pas tout à fait certain ; si vous le souhaitez, je peux vous mettre en relation "
        "avec un membre de notre équipe.",
        interrupted="Désolé, ma réponse a été interrompue. Posez à nouveau votre question, ou je peux vous mettre en "
        "relation avec un membre de notre équipe.",
        fallback="Je suis désolé, je ne peux pas répondre pour le moment car notre assistant rencontre un problème. "
        "Souhaitez-vous que je vous mette en relation avec un membre de notre équipe ?",
        blocked="Je ne peux répondre qu'aux questions sur nos services, je laisse donc celle-ci de côté. Comment "
        "puis-je vous aider aujourd'hui ?",
        withheld="Je suis désolé, je ne peux pas partager cela. Je peux répondre à vos questions sur nos services ou "
        "vous mettre en relation avec un membre de notre équipe.",
        failed="Désolé, un problème est survenu de notre côté pendant la réponse. Réessayez, ou demandez à parler à "
        "une personne.",
    ),
    "de": Phrases(
        not_covered="Das tut mir leid, dazu habe ich in unserer Wissensdatenbank keine Informationen, und ich "
        "möchte nicht raten. Soll ich Sie mit jemandem aus unserem Team verbinden?",
        intro="Das habe ich gefunden:",
        partial="Das beantwortet Ihre Frage vielleicht nur zum Teil; wenn Sie mehr brauchen, kann ich Sie mit "
        "jemandem aus unserem Team verbinden.",
        low_confidence="Da bin ich mir nicht ganz sicher; wenn Sie möchten, verbinde ich Sie mit jemandem aus "
        "unserem Team.",
        interrupted="Entschuldigung, meine Antwort wurde abgebrochen. Bitte fragen Sie noch einmal, oder ich "
        "verbinde Sie mit jemandem aus unserem Team.",
        fallback="Das tut mir leid, ich kann gerade nicht antworten, weil unser Assistent Probleme hat. Soll ich Sie "
        "mit jemandem aus unserem Team verbinden?",
        blocked="Ich kann nur bei Fragen zu unseren Leistungen helfen, daher lasse ich das beiseite. Wobei kann ich "
        "Ihnen heute helfen?",
        withheld="Das tut mir leid, das kann ich nicht weitergeben. Ich helfe gern bei Fragen zu unseren Leistungen "
        "oder verbinde Sie mit jemandem aus unserem Team.",
        failed="Entschuldigung, beim Antworten ist bei uns etwas schiefgelaufen. Bitte versuchen Sie es erneut oder "
        "fragen Sie nach einem Menschen.",
    ),
    "pt": Phrases(
        not_covered="Desculpe, não tenho informações sobre isso na nossa base de conhecimento e prefiro não "
        "adivinhar. Quer que eu coloque você em contato com alguém da nossa equipe?",
        intro="Aqui está o que encontrei:",
        partial="Isto pode responder apenas em parte à sua pergunta; se precisar de mais, posso colocar você em "
        "contato com alguém da nossa equipe.",
        low_confidence="Não tenho certeza absoluta sobre isso; se quiser, posso colocar você em contato com alguém "
        "da nossa equipe.",
        interrupted="Desculpe, minha resposta foi interrompida. Pergunte novamente, ou posso colocar você em contato "
        "com alguém da nossa equipe.",
        fallback="Desculpe, não consigo responder agora porque nosso assistente está com problemas. Quer que eu "
        "coloque você em contato com alguém da nossa equipe?",
        blocked="Só posso ajudar com perguntas sobre nossos serviços, então vou deixar essa de lado. Como posso "
        "ajudar você hoje?",
        withheld="Desculpe, não posso compartilhar isso. Posso ajudar com perguntas sobre nossos serviços ou colocar "
        "você em contato com alguém da nossa equipe.",
        failed="Desculpe, algo deu errado do nosso lado ao responder. Tente novamente ou peça para falar com uma "
        "pessoa.",
    ),
    "it": Phrases(
        not_covered="Mi dispiace, non ho informazioni su questo nella nostra base di conoscenza e preferisco non "
        "tirare a indovinare. Vuole che la metta in contatto con un membro del nostro team?",
        intro="Ecco cosa ho trovato:",
        partial="Questo potrebbe rispondere solo in parte alla sua domanda; se ha bisogno di altro, posso metterla "
        "in contatto con un membro del nostro team.",
        low_confidence="Non ne sono del tutto sicuro; se vuole, posso metterla in contatto con un membro del nostro "
        "team.",
        interrupted="Mi scusi, la mia risposta si è interrotta. Ripeta la domanda, oppure posso metterla in contatto "
        "con un membro del nostro team.",
        fallback="Mi dispiace, al momento non posso rispondere perché il nostro assistente ha dei problemi. Vuole "
        "che la metta in contatto con un membro del nostro team?",
        blocked="Posso aiutare solo con domande sui nostri servizi, quindi lascio da parte questa richiesta. Come "
        "posso aiutarla oggi?",
        withheld="Mi dispiace, non posso condividere questa informazione. Posso aiutarla con domande sui nostri "
        "servizi o metterla in contatto con un membro del nostro team.",
        failed="Mi dispiace, qualcosa è andato storto da parte nostra durante la risposta. Riprovi oppure chieda di "
        "parlare con una persona.",
    ),
    "nl": Phrases(
        not_covered="Sorry, daarover heb ik geen informatie in onze kennisbank, en ik wil liever niet gokken. "
        "Wilt u dat ik u in contact breng met iemand van ons team?",
        intro="Dit heb ik gevonden:",
        partial="Dit beantwoordt uw vraag misschien maar gedeeltelijk; als u meer nodig hebt, kan ik u in contact "
        "brengen met iemand van ons team.",
        low_confidence="Ik weet dit niet helemaal zeker; als u wilt, breng ik u in contact met iemand van ons team.",
        interrupted="Sorry, mijn antwoord werd afgebroken. Stel uw vraag opnieuw, of ik breng u in contact met "
        "iemand van ons team.",
        fallback="Sorry, ik kan nu niet antwoorden omdat onze assistent problemen heeft. Wilt u dat ik u in contact "
        "breng met iemand van ons team?",
        blocked="Ik kan alleen helpen met vragen over onze diensten, dus dat laat ik rusten. Waarmee kan ik u "
        "vandaag helpen?",
        withheld="Sorry, dat kan ik niet delen. Ik help u graag met vragen over onze diensten, of breng u in contact "
        "met iemand van ons team.",
        failed="Sorry, er ging bij ons iets mis tijdens het antwoorden. Probeer het opnieuw, of vraag naar een "
        "medewerker.",
    ),
    "ja": Phrases(
        not_covered="申し訳ありません。その件についてはナレッジベースに情報がないため、推測でのお答えは控えさせて"
        "いただきます。担当スタッフにおつなぎしましょうか？",
        intro="以下の情報が見つかりました：",
        partial="ご質問の一部にしかお答えできていないかもしれません。さらに詳しくお知りになりたい場合は、"
        "担当スタッフにおつなぎできます。",
        low_confidence="この回答には確信が持てません。ご希望でしたら、担当スタッフにおつなぎします。",
        interrupted="申し訳ありません、回答が途中で途切れました。もう一度ご質問いただくか、担当スタッフにおつなぎする"
        "こともできます。",
        fallback="申し訳ありません。現在アシスタントに問題が発生しているため、お答えできません。担当スタッフにおつな"
        "ぎしましょうか？",
        blocked="当社のサービスに関するご質問のみお手伝いできますので、その件は控えさせていただきます。本日はどのよう"
        "なご用件でしょうか？",
        withheld="申し訳ありませんが、その内容はお伝えできません。当社のサービスに関するご質問にお答えするか、担当ス"
        "タッフにおつなぎすることができます。",
        failed="申し訳ありません。回答中に当社側で問題が発生しました。もう一度お試しいただくか、担当スタッフをお呼びください。",
    ),
    "zh": Phrases(
        not_covered="抱歉，我们的知识库中没有关于这方面的信息，我不想随意猜测。需要我为您转接我们的客服人员吗？",
        intro="以下是我找到的信息：",
        partial="这可能只回答了您的部分问题；如需更多帮助，我可以为您转接我们的客服人员。",
        low_confidence="我对这个回答不完全确定；如果您需要，我可以为您转接我们的客服人员。",
        interrupted="抱歉，我的回答被中断了。请重新提问，或者我可以为您转接我们的客服人员。",
        fallback="抱歉，我们的助手暂时出现问题，目前无法回答。需要我为您转接我们的客服人员吗？",
        blocked="我只能解答与我们的服务相关的问题，所以这个请求我就不处理了。今天有什么可以帮您的吗？",
        withheld="抱歉，这些内容我无法提供。我可以解答关于我们服务的问题，或为您转接我们的客服人员。",
        failed="抱歉，我们这边在回答时出了问题。请重试，或要求转接人工客服。",
    ),
    "zh-Hant": Phrases(
        not_covered="抱歉，我們的知識庫中沒有關於這方面的資訊，我不想隨意猜測。需要我為您轉接我們的客服人員嗎？",
        intro="以下是我找到的資訊：",
        partial="這可能只回答了您的部分問題；如需更多協助，我可以為您轉接我們的客服人員。",
        low_confidence="我對這個回答不完全確定；如果您需要，我可以為您轉接我們的客服人員。",
        interrupted="抱歉，我的回答被中斷了。請重新提問，或者我可以為您轉接我們的客服人員。",
        fallback="抱歉，我們的助理暫時出現問題，目前無法回答。需要我為您轉接我們的客服人員嗎？",
        blocked="我只能解答與我們的服務相關的問題，所以這個請求我就不處理了。今天有什麼可以幫您的嗎？",
        withheld="抱歉，這些內容我無法提供。我可以解答關於我們服務的問題，或為您轉接我們的客服人員。",
        failed="抱歉，我們這邊在回答時出了問題。請重試，或要求轉接真人客服。",
    ),
    "ko": Phrases(
        not_covered="죄송합니다. 해당 내용은 저희 지식 베이스에 정보가 없어 추측으로 답변드리지 않겠습니다. "
        "저희 팀 담당자와 연결해 드릴까요?",
        intro="찾은 내용은 다음과 같습니다:",
        partial="질문에 일부만 답변이 되었을 수 있습니다. 더 필요하시면 저희 팀 담당자와 연결해 드릴 수 있습니다.",
        low_confidence="이 답변은 확실하지 않습니다. 원하시면 저희 팀 담당자와 연결해 드릴 수 있습니다.",
        interrupted="죄송합니다. 답변이 중간에 끊겼습니다. 다시 질문해 주시거나, 저희 팀 담당자와 연결해 드릴 수 "
        "있습니다.",
        fallback="죄송합니다. 지금은 상담 도우미에 문제가 있어 답변드릴 수 없습니다. 저희 팀 담당자와 연결해 드릴까요?",
        blocked="저희 서비스에 관한 질문만 도와드릴 수 있어 해당 요청은 처리하지 않겠습니다. 오늘 무엇을 도와드릴까요?",
        withheld="죄송합니다. 해당 내용은 알려 드릴 수 없습니다. 저희 서비스에 관한 질문에 답변드리거나 저희 팀 "
        "담당자와 연결해 드릴 수 있습니다.",
        failed="죄송합니다. 답변하는 중에 저희 쪽에서 문제가 발생했습니다. 다시 시도하시거나 상담원 연결을 요청해 "
        "주세요.",
    ),
    "ru": Phrases(
        not_covered="К сожалению, в нашей базе знаний нет информации об этом, и я не хочу гадать. Хотите, я "
        "соединю вас с сотрудником нашей команды?",
        intro="Вот что удалось найти:",
        partial="Возможно, это лишь частично отвечает на ваш вопрос; если нужно больше, я могу соединить вас с "
        "сотрудником нашей команды.",
        low_confidence="Я в этом не вполне уверен; если хотите, я могу соединить вас с сотрудником нашей команды.",
        interrupted="Извините, мой ответ прервался. Спросите ещё раз, или я могу соединить вас с сотрудником нашей "
        "команды.",
        fallback="К сожалению, сейчас я не могу ответить: у нашего помощника возникли неполадки. Хотите, я соединю "
        "вас с сотрудником нашей команды?",
        blocked="Я могу помочь только с вопросами о наших услугах, поэтому оставлю это без ответа. Чем я могу помочь "
        "вам сегодня?",
        withheld="К сожалению, этим я поделиться не могу. Я могу ответить на вопросы о наших услугах или соединить "
        "вас с сотрудником нашей команды.",
        failed="К сожалению, при ответе у нас что-то пошло не так. Попробуйте ещё раз или попросите соединить вас с "
        "сотрудником.",
    ),
    "th": Phrases(
        not_covered="ขออภัย ไม่มีข้อมูลเรื่องนี้ในฐานความรู้ของเรา จึงขอไม่คาดเดาคำตอบ ต้องการให้ช่วยติดต่อเจ้าหน้าที่ของเราหรือไม่",
        intro="นี่คือข้อมูลที่พบ:",
        partial="ข้อมูลนี้อาจตอบคำถามของคุณได้เพียงบางส่วน หากต้องการข้อมูลเพิ่มเติม สามารถติดต่อเจ้าหน้าที่ของเราได้",
        low_confidence="คำตอบนี้อาจไม่ถูกต้องทั้งหมด หากต้องการ สามารถติดต่อเจ้าหน้าที่ของเราได้",
        interrupted="ขออภัย คำตอบถูกตัดกลางคัน กรุณาถามอีกครั้ง หรือติดต่อเจ้าหน้าที่ของเราได้",
        fallback="ขออภัย ขณะนี้ผู้ช่วยของเรามีปัญหา จึงยังตอบไม่ได้ ต้องการให้ช่วยติดต่อเจ้าหน้าที่ของเราหรือไม่",
        blocked="เราช่วยได้เฉพาะคำถามเกี่ยวกับบริการของเรา จึงขอข้ามเรื่องนี้ไป วันนี้มีอะไรให้ช่วยไหม",
        withheld="ขออภัย ไม่สามารถให้ข้อมูลนี้ได้ เราช่วยตอบคำถามเกี่ยวกับบริการของเรา หรือติดต่อเจ้าหน้าที่ของเราให้ได้",
        failed="ขออภัย เกิดข้อผิดพลาดในระบบของเราระหว่างการตอบ โปรดลองอีกครั้ง หรือขอคุยกับเจ้าหน้าที่",
    ),
    "hi": Phrases(
        not_covered="क्षमा करें, हमारे ज्ञानकोश में इसके बारे में जानकारी नहीं है, इसलिए अनुमान लगाना उचित नहीं होगा। "
        "क्या मैं आपको हमारी टीम के किसी सदस्य से जोड़ दूँ?",
        intro="मुझे यह जानकारी मिली:",
        partial="इससे आपके प्रश्न का केवल कुछ हिस्सा ही हल हो सकता है; अधिक सहायता के लिए आपको हमारी टीम के "
        "किसी सदस्य से जोड़ा जा सकता है।",
        low_confidence="इस उत्तर के बारे में पूरी तरह निश्चितता नहीं है; आप चाहें तो आपको हमारी टीम के किसी सदस्य से जोड़ा जा सकता है।",
        interrupted="क्षमा करें, उत्तर बीच में ही कट गया। कृपया फिर से पूछें, या आपको हमारी टीम के किसी सदस्य से जोड़ा जा सकता है।",
        fallback="क्षमा करें, हमारे सहायक में अभी समस्या है, इसलिए उत्तर नहीं दिया जा सकता। क्या मैं आपको हमारी टीम "
        "के किसी सदस्य से जोड़ दूँ?",
        blocked="यहाँ केवल हमारी सेवाओं से जुड़े प्रश्नों में मदद की जा सकती है, इसलिए इसे छोड़ देते हैं। आज आपकी क्या मदद करें?",
        withheld="क्षमा करें, यह जानकारी साझा नहीं की जा सकती। हमारी सेवाओं से जुड़े प्रश्नों में मदद की जा सकती है, "
        "या आपको हमारी टीम के किसी सदस्य से जोड़ा जा सकता है।",
        failed="क्षमा करें, उत्तर देते समय हमारी ओर से कुछ गड़बड़ हो गई। कृपया फिर से प्रयास करें, या किसी व्यक्ति से बात करने के लिए कहें।",
    ),
    # Modern Standard Arabic, machine-drafted and not yet reviewed by a native speaker
    "ar": Phrases(
        not_covered="عذرًا، لا تتوفر لديّ معلومات عن ذلك في قاعدة معارفنا، ولذا أفضّل ألّا أخمّن. هل تودّ أن أوصلك "
        "بأحد أعضاء فريقنا؟",
        intro="إليك ما وجدته:",
        partial="قد لا يجيب هذا عن سؤالك إلا جزئيًا؛ ويمكنني أن أوصلك بأحد أعضاء فريقنا إن احتجت إلى المزيد.",
        low_confidence="لست متأكدًا تمامًا من هذه المعلومة؛ ويمكنني أن أوصلك بأحد أعضاء فريقنا إن رغبت في ذلك.",
        interrupted="عذرًا، انقطعت إجابتي. يُرجى طرح السؤال مرة أخرى، أو يمكنني أن أوصلك بأحد أعضاء فريقنا.",
        fallback="عذرًا، لا يمكنني الإجابة الآن لأن مساعدنا يواجه مشكلة. هل تودّ أن أوصلك بأحد أعضاء فريقنا؟",
        blocked="يمكنني المساعدة فقط في الأسئلة المتعلقة بخدماتنا، لذا سأترك هذا الطلب جانبًا. كيف يمكنني مساعدتك "
        "اليوم؟",
        withheld="عذرًا، لا يمكنني مشاركة ذلك. يمكنني المساعدة في الأسئلة المتعلقة بخدماتنا، أو إيصالك بأحد أعضاء "
        "فريقنا.",
        failed="عذرًا، حدث خطأ من جهتنا أثناء الإجابة. يُرجى المحاولة مرة أخرى، أو طلب التحدث إلى أحد الموظفين.",
    ),
}


def phrases_for(text: str) -> Phrases:
    """The phrases in the language ``text`` (the customer's message) is written in, else English."""
    return PHRASES.get(detect_language(text), PHRASES[DEFAULT])
