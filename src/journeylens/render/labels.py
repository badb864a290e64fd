"""The words a rendered map adds around the user's text, in the languages we ship."""

from __future__ import annotations

_EN = {
    "steps": "Customer actions", "touchpoints": "Touchpoints & channels", "thoughts": "Thoughts",
    "emotion": "Emotion", "pain_points": "Pain points", "gains": "Gains",
    "opportunities": "Opportunities", "kpis": "KPIs", "physical_evidence": "Physical evidence",
    "frontstage": "Frontstage", "backstage": "Backstage", "support": "Support processes",
    "owner": "Owner", "line_of_interaction": "Line of interaction",
    "line_of_visibility": "Line of visibility",
    "line_of_internal_interaction": "Line of internal interaction",
    "moment_of_truth": "Moment of truth", "persona": "Persona", "goal": "Customer goal",
    "scenario": "Scenario", "current": "Current-state journey map",
    "future": "Future-state journey map", "day_in_the_life": "Day-in-the-life map",
    "decision": "Decision", "wait": "Wait", "competitor": "At competitor",
    "competitors": "Competitors", "based_on": "Improves on", "assumed": "assumed",
    "research": "research", "measured": "measured", "target": "target",
    "legend": "Legend", "evidence": "Evidence",
}
_RO = {
    "steps": "Acțiunile clientului", "touchpoints": "Puncte de contact și canale",
    "thoughts": "Gânduri", "emotion": "Emoții", "pain_points": "Puncte de durere",
    "gains": "Câștiguri", "opportunities": "Oportunități", "kpis": "Indicatori (KPI)",
    "physical_evidence": "Dovezi fizice", "frontstage": "În fața clientului",
    "backstage": "În culise", "support": "Procese de suport", "owner": "Responsabil",
    "line_of_interaction": "Linia interacțiunii", "line_of_visibility": "Linia vizibilității",
    "line_of_internal_interaction": "Linia interacțiunii interne",
    "moment_of_truth": "Moment al adevărului", "persona": "Persona",
    "goal": "Obiectivul clientului", "scenario": "Scenariu",
    "current": "Harta parcursului – starea actuală",
    "future": "Harta parcursului – starea viitoare", "day_in_the_life": "O zi din viață",
    "decision": "Decizie", "wait": "Așteptare", "competitor": "La concurent",
    "competitors": "Concurenți", "based_on": "Îmbunătățește", "assumed": "presupus",
    "research": "cercetare", "measured": "măsurat", "target": "țintă", "legend": "Legendă",
    "evidence": "Dovezi",
}
_RU = {
    "steps": "Действия клиента", "touchpoints": "Точки контакта и каналы", "thoughts": "Мысли",
    "emotion": "Эмоции", "pain_points": "Болевые точки", "gains": "Выгоды",
    "opportunities": "Возможности", "kpis": "KPI", "physical_evidence": "Физические свидетельства",
    "frontstage": "Фронт-офис", "backstage": "Бэк-офис", "support": "Процессы поддержки",
    "owner": "Ответственный", "line_of_interaction": "Линия взаимодействия",
    "line_of_visibility": "Линия видимости",
    "line_of_internal_interaction": "Линия внутреннего взаимодействия",
    "moment_of_truth": "Момент истины", "persona": "Персона", "goal": "Цель клиента",
    "scenario": "Сценарий", "current": "Карта пути клиента: текущее состояние",
    "future": "Карта пути клиента: будущее состояние", "day_in_the_life": "«День из жизни»",
    "decision": "Решение", "wait": "Ожидание", "competitor": "У конкурента",
    "competitors": "Конкуренты", "based_on": "Улучшает", "assumed": "предположение",
    "research": "исследование", "measured": "измерено", "target": "цель", "legend": "Легенда",
    "evidence": "Обоснованность",
}
_SL = {
    "steps": "Dejanja stranke", "touchpoints": "Stične točke in kanali", "thoughts": "Misli",
    "emotion": "Čustva", "pain_points": "Boleče točke", "gains": "Koristi",
    "opportunities": "Priložnosti", "kpis": "KPI", "physical_evidence": "Fizični dokazi",
    "frontstage": "Pred stranko", "backstage": "Za odrom", "support": "Podporni procesi",
    "owner": "Lastnik", "line_of_interaction": "Linija interakcije",
    "line_of_visibility": "Linija vidnosti",
    "line_of_internal_interaction": "Linija notranje interakcije",
    "moment_of_truth": "Trenutek resnice", "persona": "Persona", "goal": "Cilj stranke",
    "scenario": "Scenarij", "current": "Zemljevid poti stranke – trenutno stanje",
    "future": "Zemljevid poti stranke – prihodnje stanje", "day_in_the_life": "Dan v življenju",
    "decision": "Odločitev", "wait": "Čakanje", "competitor": "Pri konkurentu",
    "competitors": "Konkurenti", "based_on": "Izboljšuje", "assumed": "predpostavka",
    "research": "raziskava", "measured": "izmerjeno", "target": "cilj", "legend": "Legenda",
    "evidence": "Podprtost",
}
_HE = {
    "steps": "פעולות הלקוח", "touchpoints": "נקודות מגע וערוצים", "thoughts": "מחשבות",
    "emotion": "רגשות", "pain_points": "נקודות כאב", "gains": "רווחים",
    "opportunities": "הזדמנויות", "kpis": "מדדים", "physical_evidence": "ראיות פיזיות",
    "frontstage": "מול הלקוח", "backstage": "מאחורי הקלעים", "support": "תהליכי תמיכה",
    "owner": "אחראי", "line_of_interaction": "קו האינטראקציה", "line_of_visibility": "קו הנראות",
    "line_of_internal_interaction": "קו האינטראקציה הפנימית", "moment_of_truth": "רגע האמת",
    "persona": "פרסונה", "goal": "מטרת הלקוח", "scenario": "תרחיש",
    "current": "מפת מסע לקוח – מצב נוכחי", "future": "מפת מסע לקוח – מצב עתידי",
    "day_in_the_life": "יום בחיים", "decision": "החלטה", "wait": "המתנה",
    "competitor": "אצל מתחרה", "competitors": "מתחרים", "based_on": "משפרת את",
    "assumed": "הנחה", "research": "מחקר", "measured": "נמדד", "target": "יעד",
    "legend": "מקרא", "evidence": "ביסוס",
}
LABELS: dict[str, dict[str, str]] = {"en": _EN, "ro": _RO, "ru": _RU, "sl": _SL, "he": _HE}


def label(key: str, language: str) -> str:
    """The label in ``language`` (or its base language), falling back to English."""
    table = LABELS.get(language) or LABELS.get(language.split("-")[0]) or _EN
    return table.get(key, _EN[key])
