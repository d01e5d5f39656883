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


PHRASES: dict[str, Phrases] = {
    "en": Phrases(
        not_covered="I'm sorry, I don't have information about that in our knowledge base, so I'd rather not "
        "guess. Would you like me to connect you with a member of our team?",
        intro="Here is what I found:",
        partial="This may only partly answer your question; I can connect you with a member of our team if you "
        "need more.",
    ),
    "es": Phrases(
        not_covered="Lo siento, no tengo información sobre eso en nuestra base de conocimientos y prefiero no "
        "adivinar. ¿Quiere que le ponga en contacto con alguien de nuestro equipo?",
        intro="Esto es lo que he encontrado:",
        partial="Puede que esto solo responda en parte a su pregunta; si necesita más, puedo ponerle en contacto "
        "con alguien de nuestro equipo.",
    ),
    "fr": Phrases(
        not_covered="Je suis désolé, je n'ai pas d'information à ce sujet dans notre base de connaissances et je "
        "préfère ne pas deviner. Souhaitez-vous que je vous mette en relation avec un membre de notre équipe ?",
        intro="Voici ce que j'ai trouvé :",
        partial="Cela ne répond peut-être qu'en partie à votre question ; je peux vous mettre en relation avec un "
        "membre de notre équipe si vous avez besoin de plus.",
    ),
    "de": Phrases(
        not_covered="Das tut mir leid, dazu habe ich in unserer Wissensdatenbank keine Informationen, und ich "
        "möchte nicht raten. Soll ich Sie mit jemandem aus unserem Team verbinden?",
        intro="Das habe ich gefunden:",
        partial="Das beantwortet Ihre Frage vielleicht nur zum Teil; wenn Sie mehr brauchen, kann ich Sie mit "
        "jemandem aus unserem Team verbinden.",
    ),
    "pt": Phrases(
        not_covered="Desculpe, não tenho informações sobre isso na nossa base de conhecimento e prefiro não "
        "adivinhar. Quer que eu coloque você em contato com alguém da nossa equipe?",
        intro="Aqui está o que encontrei:",
        partial="Isto pode responder apenas em parte à sua pergunta; se precisar de mais, posso colocar você em "
        "contato com alguém da nossa equipe.",
    ),
    "it": Phrases(
        not_covered="Mi dispiace, non ho informazioni su questo nella nostra base di conoscenza e preferisco non "
        "tirare a indovinare. Vuole che la metta in contatto con un membro del nostro team?",
        intro="Ecco cosa ho trovato:",
        partial="Questo potrebbe rispondere solo in parte alla sua domanda; se ha bisogno di altro, posso metterla "
        "in contatto con un membro del nostro team.",
    ),
    "nl": Phrases(
        not_covered="Sorry, daarover heb ik geen informatie in onze kennisbank, en ik wil liever niet gokken. "
        "Wilt u dat ik u in contact breng met iemand van ons team?",
        intro="Dit heb ik gevonden:",
        partial="Dit beantwoordt uw vraag misschien maar gedeeltelijk; als u meer nodig hebt, kan ik u in contact "
        "brengen met iemand van ons team.",
    ),
    "ja": Phrases(
        not_covered="申し訳ありません。その件についてはナレッジベースに情報がないため、推測でのお答えは控えさせて"
        "いただきます。担当スタッフにおつなぎしましょうか？",
        intro="以下の情報が見つかりました：",
        partial="ご質問の一部にしかお答えできていないかもしれません。さらに詳しくお知りになりたい場合は、"
        "担当スタッフにおつなぎできます。",
    ),
    "zh": Phrases(
        not_covered="抱歉，我们的知识库中没有关于这方面的信息，我不想随意猜测。需要我为您转接我们的客服人员吗？",
        intro="以下是我找到的信息：",
        partial="这可能只回答了您的部分问题；如需更多帮助，我可以为您转接我们的客服人员。",
    ),
    "zh-Hant": Phrases(
        not_covered="抱歉，我們的知識庫中沒有關於這方面的資訊，我不想隨意猜測。需要我為您轉接我們的客服人員嗎？",
        intro="以下是我找到的資訊：",
        partial="這可能只回答了您的部分問題；如需更多協助，我可以為您轉接我們的客服人員。",
    ),
    "ko": Phrases(
        not_covered="죄송합니다. 해당 내용은 저희 지식 베이스에 정보가 없어 추측으로 답변드리지 않겠습니다. "
        "저희 팀 담당자와 연결해 드릴까요?",
        intro="찾은 내용은 다음과 같습니다:",
        partial="질문에 일부만 답변이 되었을 수 있습니다. 더 필요하시면 저희 팀 담당자와 연결해 드릴 수 있습니다.",
    ),
    "ru": Phrases(
        not_covered="К сожалению, в нашей базе знаний нет информации об этом, и я не хочу гадать. Хотите, я "
        "соединю вас с сотрудником нашей команды?",
        intro="Вот что удалось найти:",
        partial="Возможно, это лишь частично отвечает на ваш вопрос; если нужно больше, я могу соединить вас с "
        "сотрудником нашей команды.",
    ),
    "th": Phrases(
        not_covered="ขออภัย ไม่มีข้อมูลเรื่องนี้ในฐานความรู้ของเรา จึงขอไม่คาดเดาคำตอบ ต้องการให้ช่วยติดต่อเจ้าหน้าที่ของเราหรือไม่",
        intro="นี่คือข้อมูลที่พบ:",
        partial="ข้อมูลนี้อาจตอบคำถามของคุณได้เพียงบางส่วน หากต้องการข้อมูลเพิ่มเติม สามารถติดต่อเจ้าหน้าที่ของเราได้",
    ),
    "hi": Phrases(
        not_covered="क्षमा करें, हमारे ज्ञानकोश में इसके बारे में जानकारी नहीं है, इसलिए अनुमान लगाना उचित नहीं होगा। "
        "क्या मैं आपको हमारी टीम के किसी सदस्य से जोड़ दूँ?",
        intro="मुझे यह जानकारी मिली:",
        partial="इससे आपके प्रश्न का केवल कुछ हिस्सा ही हल हो सकता है; अधिक सहायता के लिए आपको हमारी टीम के "
        "किसी सदस्य से जोड़ा जा सकता है।",
    ),
}


def phrases_for(text: str) -> Phrases:
    """The phrases in the language ``text`` (the customer's message) is written in, else English."""
    return PHRASES.get(detect_language(text), PHRASES[DEFAULT])
