"""The web application's own words, in every language the maps are drawn in (en, ro, ru, sl, he).

Pages pick a language from ``?lang=``, then the ``jl_lang`` cookie, then the browser's
``Accept-Language``, falling back to English. A string missing in a language falls back to
English too (a test checks that none is missing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

LANGUAGES: tuple[str, ...] = ("en", "ro", "ru", "sl", "he")
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "ro": "Română",
    "ru": "Русский",
    "sl": "Slovenščina",
    "he": "עברית",
}
RTL = frozenset({"he"})
DEFAULT = "en"
COOKIE = "jl_lang"

# key: (en, ro, ru, sl, he)
_TABLE: dict[str, tuple[str, str, str, str, str]] = {
    # frame
    "app.name": ("journeylens", "journeylens", "journeylens", "journeylens", "journeylens"),
    "nav.home": (
        "Workspace",
        "Spațiu de lucru",
        "Рабочее пространство",
        "Delovni prostor",
        "סביבת עבודה",
    ),
    "nav.analytics": ("Analytics", "Analize", "Аналитика", "Analitika", "ניתוחים"),
    "nav.data": ("Data", "Date", "Данные", "Podatki", "נתונים"),
    "nav.admin": ("Admin", "Administrare", "Администрирование", "Skrbništvo", "ניהול"),
    "nav.skip": (
        "Skip to content",
        "Sari la conținut",
        "Перейти к содержимому",
        "Preskoči na vsebino",
        "דלג לתוכן",
    ),
    "nav.language": ("Language", "Limba", "Язык", "Jezik", "שפה"),
    "nav.change": ("Change", "Schimbă", "Сменить", "Zamenjaj", "החלף"),
    "nav.signed_in_as": (
        "Signed in as",
        "Conectat ca",
        "Вы вошли как",
        "Prijavljeni kot",
        "מחובר/ת בתור",
    ),
    "nav.sign_out": ("Sign out", "Deconectare", "Выйти", "Odjava", "התנתקות"),
    "role.viewer": ("viewer", "cititor", "читатель", "bralec", "צופה"),
    "role.editor": ("editor", "editor", "редактор", "urednik", "עורך/ת"),
    "role.admin": ("admin", "administrator", "администратор", "skrbnik", "מנהל/ת"),
    # login
    "login.title": ("Sign in", "Autentificare", "Вход", "Prijava", "כניסה"),
    "login.intro": (
        "Customer journey maps kept live from omnichannel data.",
        "Hărți ale călătoriei clientului, actualizate din date omnicanal.",
        "Карты пути клиента, живые благодаря омниканальным данным.",
        "Zemljevidi poti strank, ki jih sproti osvežujejo večkanalni podatki.",
        "מפות מסע לקוח שמתעדכנות מנתונים רב־ערוציים.",
    ),
    "login.name": (
        "User name",
        "Nume de utilizator",
        "Имя пользователя",
        "Uporabniško ime",
        "שם משתמש",
    ),
    "login.password": ("Password", "Parolă", "Пароль", "Geslo", "סיסמה"),
    "login.submit": ("Sign in", "Intră", "Войти", "Prijava", "כניסה"),
    "login.failed": (
        "Wrong user name or password.",
        "Nume de utilizator sau parolă greșite.",
        "Неверное имя пользователя или пароль.",
        "Napačno uporabniško ime ali geslo.",
        "שם משתמש או סיסמה שגויים.",
    ),
    "login.locked": (
        "Too many failed attempts: try again later.",
        "Prea multe încercări eșuate: încercați mai târziu.",
        "Слишком много неудачных попыток: попробуйте позже.",
        "Preveč neuspelih poskusov: poskusite pozneje.",
        "יותר מדי ניסיונות כושלים: נסו שוב מאוחר יותר.",
    ),
    # home
    "home.title": (
        "Workspace",
        "Spațiu de lucru",
        "Рабочее пространство",
        "Delovni prostor",
        "סביבת עבודה",
    ),
    "home.maps": (
        "Journey maps",
        "Hărți ale călătoriei",
        "Карты пути клиента",
        "Zemljevidi poti",
        "מפות מסע",
    ),
    "home.personas": ("Personas", "Persone", "Персоны", "Persone", "פרסונות"),
    "home.freshness": (
        "Data freshness",
        "Prospețimea datelor",
        "Свежесть данных",
        "Svežina podatkov",
        "עדכניות הנתונים",
    ),
    "home.latest_batch": (
        "Latest load",
        "Ultima încărcare",
        "Последняя загрузка",
        "Zadnje nalaganje",
        "טעינה אחרונה",
    ),
    "home.events_loaded": (
        "Events loaded",
        "Evenimente încărcate",
        "Загружено событий",
        "Naloženi dogodki",
        "אירועים שנטענו",
    ),
    "home.batches": ("Loads", "Încărcări", "Загрузки", "Nalaganja", "טעינות"),
    "home.no_data": (
        "No data loaded yet: maps show the design only.",
        "Încă nu există date: hărțile arată doar designul.",
        "Данные ещё не загружены: карты показывают только замысел.",
        "Podatki še niso naloženi: zemljevidi kažejo le zasnovo.",
        "עדיין לא נטענו נתונים: המפות מציגות את התכנון בלבד.",
    ),
    "home.invalid": (
        "Maps with errors (fix them in the YAML)",
        "Hărți cu erori (corectați-le în YAML)",
        "Карты с ошибками (исправьте их в YAML)",
        "Zemljevidi z napakami (popravite jih v YAML)",
        "מפות עם שגיאות (תקנו אותן ב־YAML)",
    ),
    "col.title": ("Title", "Titlu", "Название", "Naslov", "כותרת"),
    "col.type": ("Type", "Tip", "Тип", "Vrsta", "סוג"),
    "col.status": ("Status", "Stare", "Статус", "Stanje", "מצב"),
    "col.language": ("Language", "Limba", "Язык", "Jezik", "שפה"),
    "col.bound": (
        "Steps bound to data",
        "Pași legați de date",
        "Шаги, связанные с данными",
        "Koraki, vezani na podatke",
        "צעדים מקושרים לנתונים",
    ),
    "col.links": ("Open", "Deschide", "Открыть", "Odpri", "פתיחה"),
    "col.name": ("Name", "Nume", "Имя", "Ime", "שם"),
    "col.description": ("Description", "Descriere", "Описание", "Opis", "תיאור"),
    "col.role": ("Role", "Rol", "Роль", "Vloga", "תפקיד"),
    "col.when": ("When", "Când", "Когда", "Kdaj", "מתי"),
    "col.user": ("User", "Utilizator", "Пользователь", "Uporabnik", "משתמש"),
    "col.action": ("Action", "Acțiune", "Действие", "Dejanje", "פעולה"),
    "col.target": ("Target", "Țintă", "Объект", "Cilj", "יעד"),
    "col.detail": ("Detail", "Detalii", "Подробности", "Podrobnosti", "פרטים"),
    "col.file": ("File", "Fișier", "Файл", "Datoteka", "קובץ"),
    "col.read": ("Read", "Citite", "Прочитано", "Prebrano", "נקראו"),
    "col.accepted": ("Accepted", "Acceptate", "Принято", "Sprejeto", "התקבלו"),
    "col.quarantined": ("Quarantined", "În carantină", "В карантине", "V karanteni", "בהסגר"),
    "col.duplicates": ("Duplicates", "Duplicate", "Дубликаты", "Dvojniki", "כפילויות"),
    "col.finished": ("Finished", "Încheiat", "Завершено", "Končano", "הסתיים"),
    "col.source": ("Source", "Sursă", "Источник", "Vir", "מקור"),
    "col.row": ("Row", "Rând", "Строка", "Vrstica", "שורה"),
    "col.column": ("Column", "Coloană", "Столбец", "Stolpec", "עמודה"),
    "col.reason": ("Reason", "Motiv", "Причина", "Razlog", "סיבה"),
    "col.raw": ("Raw row", "Rând brut", "Исходная строка", "Izvirna vrstica", "שורה גולמית"),
    "col.path": ("Path", "Cale", "Путь", "Pot", "נתיב"),
    "col.format": ("Format", "Format", "Формат", "Oblika", "תבנית"),
    "col.customers": ("Customers", "Clienți", "Клиенты", "Stranke", "לקוחות"),
    "col.share": ("Share", "Pondere", "Доля", "Delež", "שיעור"),
    "col.count": ("Count", "Număr", "Количество", "Število", "מספר"),
    "col.median": ("Median time", "Timp median", "Медианное время", "Mediana časa", "זמן חציוני"),
    "col.from": ("From", "De la", "Откуда", "Od", "מ־"),
    "col.to": ("To", "La", "Куда", "Do", "אל"),
    "col.journey": ("Journey", "Călătorie", "Путь", "Pot", "מסע"),
    "col.cohort": ("Cohort", "Cohortă", "Когорта", "Kohorta", "קוהורטה"),
    "col.size": ("Size", "Mărime", "Размер", "Velikost", "גודל"),
    "col.churned": ("Churned", "Pierduți", "Ушли", "Odšli", "נטשו"),
    "col.driver": ("Driver", "Factor", "Фактор", "Dejavnik", "גורם"),
    "col.odds": (
        "Odds ratio (95% interval)",
        "Raportul șanselor (interval 95%)",
        "Отношение шансов (95% интервал)",
        "Razmerje obetov (95% interval)",
        "יחס סיכויים (רווח 95%)",
    ),
    "col.with": ("Rate with", "Rata cu", "Доля с", "Delež z", "שיעור עם"),
    "col.without": ("Rate without", "Rata fără", "Доля без", "Delež brez", "שיעור בלי"),
    "col.step": ("Step", "Pas", "Шаг", "Korak", "צעד"),
    "col.fitness": (
        "Follow the design",
        "Urmează designul",
        "Следуют замыслу",
        "Sledijo zasnovi",
        "עוקבים אחר התכנון",
    ),
    "col.off_design": (
        "Arrive off the design",
        "Sosesc în afara designului",
        "Приходят вне замысла",
        "Pridejo mimo zasnove",
        "מגיעים מחוץ לתכנון",
    ),
    "type.current": (
        "Current state",
        "Starea actuală",
        "Текущее состояние",
        "Trenutno stanje",
        "מצב קיים",
    ),
    "type.future": (
        "Future state",
        "Starea viitoare",
        "Будущее состояние",
        "Prihodnje stanje",
        "מצב עתידי",
    ),
    "type.day_in_the_life": (
        "Day in the life",
        "O zi din viață",
        "Один день из жизни",
        "Dan v življenju",
        "יום בחיים",
    ),
    "action.view": ("View", "Vezi", "Открыть", "Poglej", "הצגה"),
    "action.edit": ("Edit", "Editează", "Редактировать", "Uredi", "עריכה"),
    "action.save": ("Save", "Salvează", "Сохранить", "Shrani", "שמירה"),
    "action.apply": ("Apply", "Aplică", "Применить", "Uporabi", "החלה"),
    "action.reset": ("Reset", "Resetează", "Сбросить", "Ponastavi", "איפוס"),
    "action.close": ("Close", "Închide", "Закрыть", "Zapri", "סגירה"),
    "action.run": ("Run", "Rulează", "Запустить", "Zaženi", "הרצה"),
    "action.add": ("Add", "Adaugă", "Добавить", "Dodaj", "הוספה"),
    "action.delete": ("Delete", "Șterge", "Удалить", "Izbriši", "מחיקה"),
    "action.restore": ("Restore", "Restaurează", "Восстановить", "Obnovi", "שחזור"),
    "action.show_diff": (
        "Show changes",
        "Arată modificările",
        "Показать изменения",
        "Pokaži spremembe",
        "הצגת שינויים",
    ),
    "action.create": ("Create", "Creează", "Создать", "Ustvari", "יצירה"),
    # map viewer
    "map.export": ("Export", "Exportă", "Экспорт", "Izvoz", "ייצוא"),
    "map.filters": ("Filters", "Filtre", "Фильтры", "Filtri", "מסננים"),
    "map.segment": (
        "Segment (selector)",
        "Segment (selector)",
        "Сегмент (селектор)",
        "Segment (izbirnik)",
        "פלח (בורר)",
    ),
    "map.segment_hint": (
        'Customers with at least one matching event, e.g. attr.device == "mobile"',
        'Clienți cu cel puțin un eveniment potrivit, de ex. attr.device == "mobile"',
        'Клиенты хотя бы с одним подходящим событием, напр. attr.device == "mobile"',
        'Stranke z vsaj enim ujemajočim dogodkom, npr. attr.device == "mobile"',
        'לקוחות עם לפחות אירוע תואם אחד, למשל attr.device == "mobile"',
    ),
    "map.channels": ("Channels", "Canale", "Каналы", "Kanali", "ערוצים"),
    "map.channels_hint": (
        "None selected: all channels",
        "Niciunul selectat: toate canalele",
        "Ничего не выбрано: все каналы",
        "Nič izbrano: vsi kanali",
        "לא נבחר דבר: כל הערוצים",
    ),
    "map.since": ("From", "De la", "С", "Od", "מתאריך"),
    "map.until": ("To", "Până la", "По", "Do", "עד תאריך"),
    "map.zoom_in": ("Zoom in", "Mărește", "Увеличить", "Povečaj", "הגדלה"),
    "map.zoom_out": ("Zoom out", "Micșorează", "Уменьшить", "Pomanjšaj", "הקטנה"),
    "map.fit": (
        "Fit to width",
        "Potrivește la lățime",
        "По ширине",
        "Prilagodi širini",
        "התאמה לרוחב",
    ),
    "map.actual": ("100%", "100%", "100%", "100%", "100%"),
    "map.loading": (
        "Measuring the map on the data…",
        "Se măsoară harta pe date…",
        "Карта измеряется на данных…",
        "Zemljevid se meri na podatkih …",
        "המפה נמדדת על הנתונים…",
    ),
    "map.loaded": (
        "Live map loaded.",
        "Harta live a fost încărcată.",
        "Живая карта загружена.",
        "Živi zemljevid je naložen.",
        "המפה החיה נטענה.",
    ),
    "map.no_data": (
        "No data loaded yet: showing the designed map without data lanes.",
        "Încă nu există date: se arată harta proiectată, fără benzile de date.",
        "Данных ещё нет: показана спроектированная карта без полос данных.",
        "Podatkov še ni: prikazan je zasnovani zemljevid brez podatkovnih pasov.",
        "עדיין אין נתונים: מוצגת המפה המתוכננת ללא נתיבי הנתונים.",
    ),
    "map.steps": ("Steps", "Pași", "Шаги", "Koraki", "צעדים"),
    "map.steps_hint": (
        "Choose a step, or click its column on the map, to see its data.",
        "Alegeți un pas sau faceți clic pe coloana lui din hartă pentru a-i vedea datele.",
        "Выберите шаг или щёлкните его столбец на карте, чтобы увидеть данные.",
        "Izberite korak ali kliknite njegov stolpec na zemljevidu, da vidite njegove podatke.",
        "בחרו צעד, או לחצו על העמודה שלו במפה, כדי לראות את הנתונים שלו.",
    ),
    "map.bound": (
        "bound to data",
        "legat de date",
        "связан с данными",
        "vezan na podatke",
        "מקושר לנתונים",
    ),
    "map.unbound": (
        "not bound to data",
        "nelegat de date",
        "не связан с данными",
        "ni vezan na podatke",
        "לא מקושר לנתונים",
    ),
    "map.canvas": (
        "The journey map",
        "Harta călătoriei",
        "Карта пути клиента",
        "Zemljevid poti",
        "מפת המסע",
    ),
    "map.error": (
        "Could not load the map",
        "Harta nu a putut fi încărcată",
        "Не удалось загрузить карту",
        "Zemljevida ni bilo mogoče naložiti",
        "לא ניתן היה לטעון את המפה",
    ),
    # step panel
    "panel.measures": (
        "Measured on the data",
        "Măsurat pe date",
        "Измерено на данных",
        "Izmerjeno na podatkih",
        "נמדד על הנתונים",
    ),
    "panel.customers": ("Customers", "Clienți", "Клиенты", "Stranke", "לקוחות"),
    "panel.share": (
        "of customers in scope",
        "din clienții analizați",
        "клиентов в выборке",
        "strank v obsegu",
        "מהלקוחות בטווח",
    ),
    "panel.events": ("Events", "Evenimente", "События", "Dogodki", "אירועים"),
    "panel.conversion": (
        "Go on to the next step",
        "Trec la pasul următor",
        "Переходят к следующему шагу",
        "Nadaljujejo na naslednji korak",
        "ממשיכים לצעד הבא",
    ),
    "panel.median_time": (
        "Median time to the next step",
        "Timp median până la pasul următor",
        "Медианное время до следующего шага",
        "Mediana časa do naslednjega koraka",
        "זמן חציוני לצעד הבא",
    ),
    "panel.dropoff": ("Drop-off", "Abandon", "Отток", "Osip", "נשירה"),
    "panel.contacts": (
        "Contacted support within the window",
        "Au contactat suportul în interval",
        "Обратились в поддержку в пределах окна",
        "Poklicali podporo v oknu",
        "פנו לתמיכה בתוך החלון",
    ),
    "panel.loops": (
        "Went back to an earlier step",
        "S-au întors la un pas anterior",
        "Вернулись к предыдущему шагу",
        "Vrnili so se na prejšnji korak",
        "חזרו לצעד קודם",
    ),
    "panel.waits": (
        "Waited longer than the limit",
        "Au așteptat peste limită",
        "Ждали дольше предела",
        "Čakali dlje od meje",
        "המתינו יותר מהמגבלה",
    ),
    "panel.satisfaction": (
        "Satisfaction",
        "Satisfacție",
        "Удовлетворённость",
        "Zadovoljstvo",
        "שביעות רצון",
    ),
    "panel.emotion": (
        "Measured emotion (−2..+2)",
        "Emoție măsurată (−2..+2)",
        "Измеренная эмоция (−2..+2)",
        "Izmerjeno čustvo (−2..+2)",
        "רגש נמדד (‎−2..+2)",
    ),
    "panel.reasons": (
        "Top contact reasons",
        "Principalele motive de contact",
        "Главные причины обращений",
        "Glavni razlogi za stik",
        "סיבות הפנייה העיקריות",
    ),
    "panel.verbatims": (
        "What customers say",
        "Ce spun clienții",
        "Что говорят клиенты",
        "Kaj pravijo stranke",
        "מה הלקוחות אומרים",
    ),
    "panel.pains": (
        "Pain point evidence",
        "Dovezi de puncte dureroase",
        "Признаки болевой точки",
        "Dokazi o bolečih točkah",
        "ראיות לנקודת כאב",
    ),
    "panel.pain_rank": (
        "Pain point #{rank}: {share} of all customers hurt",
        "Punct dureros #{rank}: {share} din toți clienții afectați",
        "Болевая точка №{rank}: затронуто {share} всех клиентов",
        "Boleča točka št. {rank}: prizadetih {share} vseh strank",
        "נקודת כאב #{rank}: {share} מכלל הלקוחות נפגעו",
    ),
    "panel.designed_pains": (
        "Designed pain points",
        "Puncte dureroase proiectate",
        "Заложенные болевые точки",
        "Zasnovane boleče točke",
        "נקודות כאב מתוכננות",
    ),
    "panel.none": ("None", "Niciunul", "Нет", "Nič", "אין"),
    "panel.no_measures": (
        "This step is not bound to data, or no data is loaded.",
        "Acest pas nu este legat de date sau nu sunt date încărcate.",
        "Этот шаг не связан с данными или данные не загружены.",
        "Ta korak ni vezan na podatke ali podatki niso naloženi.",
        "הצעד אינו מקושר לנתונים, או שלא נטענו נתונים.",
    ),
    "panel.no_match": (
        "No matching events in scope",
        "Niciun eveniment potrivit în domeniu",
        "Нет подходящих событий в выборке",
        "V obsegu ni ujemajočih dogodkov",
        "אין אירועים תואמים בטווח",
    ),
    "panel.comments": ("Comments", "Comentarii", "Комментарии", "Komentarji", "הערות"),
    "panel.no_comments": (
        "No comments yet.",
        "Încă nu există comentarii.",
        "Комментариев пока нет.",
        "Še ni komentarjev.",
        "אין עדיין הערות.",
    ),
    "panel.add_comment": (
        "Add a comment",
        "Adaugă un comentariu",
        "Добавить комментарий",
        "Dodaj komentar",
        "הוספת הערה",
    ),
    "panel.post": ("Post comment", "Publică", "Отправить", "Objavi", "פרסום"),
    "panel.edit_step": (
        "Edit this step",
        "Editează pasul",
        "Редактировать шаг",
        "Uredi korak",
        "עריכת הצעד",
    ),
    "panel.answers": ("answers", "răspunsuri", "ответов", "odgovorov", "תשובות"),
    "panel.dissatisfied": (
        "dissatisfied",
        "nemulțumiți",
        "недовольны",
        "nezadovoljnih",
        "לא מרוצים",
    ),
    "panel.themes": ("Themes", "Teme", "Темы", "Teme", "נושאים"),
    # editor
    "edit.title": (
        "Edit map",
        "Editează harta",
        "Редактирование карты",
        "Urejanje zemljevida",
        "עריכת מפה",
    ),
    "edit.structure": (
        "Stages and steps",
        "Etape și pași",
        "Этапы и шаги",
        "Faze in koraki",
        "שלבים וצעדים",
    ),
    "edit.step": ("Step", "Pas", "Шаг", "Korak", "צעד"),
    "edit.choose": (
        "Choose a step to edit it.",
        "Alegeți un pas pentru a-l edita.",
        "Выберите шаг для редактирования.",
        "Izberite korak, da ga uredite.",
        "בחרו צעד כדי לערוך אותו.",
    ),
    "edit.action": (
        "Customer action",
        "Acțiunea clientului",
        "Действие клиента",
        "Dejanje stranke",
        "פעולת הלקוח",
    ),
    "edit.description": ("Description", "Descriere", "Описание", "Opis", "תיאור"),
    "edit.emotion": (
        "Emotion (−2..+2)",
        "Emoție (−2..+2)",
        "Эмоция (−2..+2)",
        "Čustvo (−2..+2)",
        "רגש (‎−2..+2)",
    ),
    "edit.emotion_none": ("not set", "nesetat", "не задано", "ni nastavljeno", "לא נקבע"),
    "edit.thoughts": (
        "Thoughts (one per line)",
        "Gânduri (câte unul pe rând)",
        "Мысли (по одной в строке)",
        "Misli (ena na vrstico)",
        "מחשבות (אחת בכל שורה)",
    ),
    "edit.match": (
        "Data binding (match selector)",
        "Legare la date (selector match)",
        "Связь с данными (селектор match)",
        "Vezava na podatke (izbirnik match)",
        "קישור לנתונים (בורר match)",
    ),
    "edit.match_hint": (
        'e.g. activity == "checkout_start" and channel in ["web", "app"]',
        'de ex. activity == "checkout_start" and channel in ["web", "app"]',
        'напр. activity == "checkout_start" and channel in ["web", "app"]',
        'npr. activity == "checkout_start" and channel in ["web", "app"]',
        'למשל activity == "checkout_start" and channel in ["web", "app"]',
    ),
    "edit.matches": (
        "Matches {events} events of {customers} customers",
        "Potrivește {events} evenimente de la {customers} clienți",
        "Совпадает {events} событий {customers} клиентов",
        "Ujema se {events} dogodkov {customers} strank",
        "תואם {events} אירועים של {customers} לקוחות",
    ),
    "edit.valid_no_data": (
        "Valid selector (no data to count yet)",
        "Selector valid (încă nu sunt date)",
        "Селектор корректен (данных ещё нет)",
        "Veljaven izbirnik (podatkov še ni)",
        "בורר תקין (אין עדיין נתונים לספירה)",
    ),
    "edit.selector_error": (
        "Error at column {column}: {error}",
        "Eroare la coloana {column}: {error}",
        "Ошибка в столбце {column}: {error}",
        "Napaka v stolpcu {column}: {error}",
        "שגיאה בעמודה {column}: {error}",
    ),
    "edit.checking": ("Checking…", "Se verifică…", "Проверка…", "Preverjanje …", "בודק…"),
    "edit.message": (
        "Change note (optional)",
        "Notă despre modificare (opțional)",
        "Примечание к изменению (необязательно)",
        "Opomba o spremembi (neobvezno)",
        "הערה לשינוי (לא חובה)",
    ),
    "edit.save_step": (
        "Save step",
        "Salvează pasul",
        "Сохранить шаг",
        "Shrani korak",
        "שמירת הצעד",
    ),
    "edit.saved": (
        "Saved as version {version}.",
        "Salvat ca versiunea {version}.",
        "Сохранено как версия {version}.",
        "Shranjeno kot različica {version}.",
        "נשמר כגרסה {version}.",
    ),
    "edit.translated": (
        "This text has translations: edit it in the YAML.",
        "Acest text are traduceri: editați-l în YAML.",
        "У этого текста есть переводы: редактируйте его в YAML.",
        "To besedilo ima prevode: uredite ga v YAML.",
        "לטקסט זה יש תרגומים: ערכו אותו ב־YAML.",
    ),
    "edit.move_earlier": (
        "Move earlier",
        "Mută mai devreme",
        "Переместить раньше",
        "Premakni prej",
        "הזזה מוקדם יותר",
    ),
    "edit.move_later": (
        "Move later",
        "Mută mai târziu",
        "Переместить позже",
        "Premakni pozneje",
        "הזזה מאוחר יותר",
    ),
    "edit.delete_step": (
        "Delete step",
        "Șterge pasul",
        "Удалить шаг",
        "Izbriši korak",
        "מחיקת הצעד",
    ),
    "edit.confirm_delete": (
        "Delete this step?",
        "Ștergeți acest pas?",
        "Удалить этот шаг?",
        "Izbrišem ta korak?",
        "למחוק את הצעד?",
    ),
    "edit.add_step": (
        "Add a step after this one",
        "Adaugă un pas după acesta",
        "Добавить шаг после этого",
        "Dodaj korak za tem",
        "הוספת צעד אחרי צעד זה",
    ),
    "edit.new_id": (
        "New step id",
        "Id-ul noului pas",
        "Id нового шага",
        "Id novega koraka",
        "מזהה הצעד החדש",
    ),
    "edit.yaml": (
        "The map as YAML",
        "Harta ca YAML",
        "Карта в YAML",
        "Zemljevid kot YAML",
        "המפה כ־YAML",
    ),
    "edit.save_yaml": ("Save YAML", "Salvează YAML", "Сохранить YAML", "Shrani YAML", "שמירת YAML"),
    "edit.issues": (
        "The map has errors:",
        "Harta are erori:",
        "В карте есть ошибки:",
        "Zemljevid ima napake:",
        "במפה יש שגיאות:",
    ),
    "edit.history": (
        "Version history",
        "Istoricul versiunilor",
        "История версий",
        "Zgodovina različic",
        "היסטוריית גרסאות",
    ),
    "edit.no_history": (
        "No web edits yet.",
        "Încă nu există editări web.",
        "Правок через веб ещё нет.",
        "Spletnih sprememb še ni.",
        "אין עדיין עריכות ברשת.",
    ),
    "edit.version": (
        "Version {version}",
        "Versiunea {version}",
        "Версия {version}",
        "Različica {version}",
        "גרסה {version}",
    ),
    "edit.restored": (
        "Restored: now version {version}.",
        "Restaurat: acum versiunea {version}.",
        "Восстановлено: теперь версия {version}.",
        "Obnovljeno: zdaj različica {version}.",
        "שוחזר: כעת גרסה {version}.",
    ),
    "edit.no_changes": (
        "Same as now.",
        "La fel ca acum.",
        "Совпадает с текущей.",
        "Enako kot zdaj.",
        "זהה למצב הנוכחי.",
    ),
    "edit.back": (
        "Back to the map",
        "Înapoi la hartă",
        "Назад к карте",
        "Nazaj na zemljevid",
        "חזרה למפה",
    ),
    # analytics
    "an.title": ("Analytics", "Analize", "Аналитика", "Analitika", "ניתוחים"),
    "an.process": (
        "Process map",
        "Harta procesului",
        "Карта процесса",
        "Procesni zemljevid",
        "מפת תהליך",
    ),
    "an.process_hint": (
        "What customers really do next: the most frequent transitions between activities.",
        "Ce fac clienții cu adevărat în continuare: cele mai frecvente tranziții între activități.",
        "Что клиенты делают на самом деле: самые частые переходы между действиями.",
        "Kaj stranke res naredijo naprej: najpogostejši prehodi med dejavnostmi.",
        "מה הלקוחות עושים בפועל: המעברים השכיחים ביותר בין פעולות.",
    ),
    "an.top_edges": (
        "Transitions shown",
        "Tranziții afișate",
        "Показано переходов",
        "Prikazani prehodi",
        "מעברים מוצגים",
    ),
    "an.variants": (
        "Most common journeys",
        "Cele mai frecvente călătorii",
        "Самые частые пути",
        "Najpogostejše poti",
        "המסעות הנפוצים ביותר",
    ),
    "an.funnel": ("Funnel", "Pâlnie", "Воронка", "Lijak", "משפך"),
    "an.funnel_hint": (
        "One selector per line, in order.",
        "Câte un selector pe rând, în ordine.",
        "По одному селектору в строке, по порядку.",
        "En izbirnik na vrstico, po vrsti.",
        "בורר אחד בכל שורה, לפי הסדר.",
    ),
    "an.funnel_steps": (
        "Funnel steps",
        "Pașii pâlniei",
        "Шаги воронки",
        "Koraki lijaka",
        "שלבי המשפך",
    ),
    "an.window": ("Window", "Fereastră", "Окно", "Okno", "חלון זמן"),
    "an.entered": ("entered", "au intrat", "вошли", "vstopili", "נכנסו"),
    "an.retention": ("Retention", "Retenție", "Удержание", "Zadrževanje", "שימור"),
    "an.start": (
        "Start (selector)",
        "Start (selector)",
        "Начало (селектор)",
        "Začetek (izbirnik)",
        "התחלה (בורר)",
    ),
    "an.returning": (
        "Coming back (selector, optional)",
        "Revenire (selector, opțional)",
        "Возвращение (селектор, необязательно)",
        "Vrnitev (izbirnik, neobvezno)",
        "חזרה (בורר, לא חובה)",
    ),
    "an.period": ("Period", "Perioadă", "Период", "Obdobje", "תקופה"),
    "an.period.day": ("day", "zi", "день", "dan", "יום"),
    "an.period.week": ("week", "săptămână", "неделя", "teden", "שבוע"),
    "an.period.month": ("month", "lună", "месяц", "mesec", "חודש"),
    "an.map": ("Map", "Hartă", "Карта", "Zemljevid", "מפה"),
    "an.segments": (
        "Customer segments",
        "Segmente de clienți",
        "Сегменты клиентов",
        "Segmenti strank",
        "פלחי לקוחות",
    ),
    "an.drivers": (
        "Drivers of conversion",
        "Factorii conversiei",
        "Факторы конверсии",
        "Dejavniki konverzije",
        "גורמי המרה",
    ),
    "an.target": ("Explain", "Explică", "Объяснить", "Pojasni", "להסביר"),
    "an.target.converted": ("conversion", "conversia", "конверсию", "konverzijo", "המרה"),
    "an.target.churned": ("churn", "pierderea clienților", "отток", "odhod strank", "נטישה"),
    "an.conformance": (
        "Conformance to the design",
        "Conformitatea cu designul",
        "Соответствие замыслу",
        "Skladnost z zasnovo",
        "התאמה לתכנון",
    ),
    "an.conforming": (
        "{share} of {customers} customers follow the designed path",
        "{share} din {customers} clienți urmează calea proiectată",
        "{share} из {customers} клиентов следуют заложенному пути",
        "{share} od {customers} strank sledi zasnovani poti",
        "{share} מתוך {customers} לקוחות עוקבים אחר המסלול המתוכנן",
    ),
    "an.running": ("Running…", "Se rulează…", "Выполняется…", "Izvajanje …", "רץ…"),
    "an.none": (
        "Nothing found.",
        "Nu s-a găsit nimic.",
        "Ничего не найдено.",
        "Nič ni bilo najdeno.",
        "לא נמצא דבר.",
    ),
    # data
    "data.title": ("Data", "Date", "Данные", "Podatki", "נתונים"),
    "data.sources": ("Sources", "Surse", "Источники", "Viri", "מקורות"),
    "data.no_sources": (
        "No sources defined.",
        "Nu sunt definite surse.",
        "Источники не заданы.",
        "Viri niso določeni.",
        "לא הוגדרו מקורות.",
    ),
    "data.batches": ("Loads", "Încărcări", "Загрузки", "Nalaganja", "טעינות"),
    "data.quarantine": ("Quarantine", "Carantină", "Карантин", "Karantena", "הסגר"),
    "data.quarantine_hint": (
        "Rejected rows, with file, row, column and reason. Nothing is dropped silently.",
        "Rânduri respinse, cu fișier, rând, coloană și motiv. Nimic nu se pierde pe tăcute.",
        "Отклонённые строки с файлом, строкой, столбцом и причиной. Ничего не теряется молча.",
        "Zavrnjene vrstice z datoteko, vrstico, stolpcem in razlogom. Nič se ne izgubi potihoma.",
        "שורות שנדחו, עם קובץ, שורה, עמודה וסיבה. דבר אינו נזרק בשקט.",
    ),
    "data.quarantine_empty": (
        "No rejected rows.",
        "Niciun rând respins.",
        "Отклонённых строк нет.",
        "Ni zavrnjenih vrstic.",
        "אין שורות שנדחו.",
    ),
    "data.editors_only": (
        "Rejected rows hold raw customer data: editors only.",
        "Rândurile respinse conțin date brute ale clienților: doar pentru editori.",
        "Отклонённые строки содержат сырые данные клиентов: только для редакторов.",
        "Zavrnjene vrstice vsebujejo surove podatke strank: samo za urednike.",
        "שורות שנדחו מכילות נתוני לקוחות גולמיים: לעורכים בלבד.",
    ),
    # admin
    "admin.title": ("Administration", "Administrare", "Администрирование", "Skrbništvo", "ניהול"),
    "admin.users": ("Users", "Utilizatori", "Пользователи", "Uporabniki", "משתמשים"),
    "admin.add_user": (
        "Add a user",
        "Adaugă un utilizator",
        "Добавить пользователя",
        "Dodaj uporabnika",
        "הוספת משתמש",
    ),
    "admin.change_role": (
        "Change role",
        "Schimbă rolul",
        "Сменить роль",
        "Spremeni vlogo",
        "שינוי תפקיד",
    ),
    "admin.audit": (
        "Audit log",
        "Jurnal de audit",
        "Журнал аудита",
        "Revizijska sled",
        "יומן ביקורת",
    ),
    "admin.token": ("API token", "Token API", "API-токен", "Žeton API", "אסימון API"),
    "admin.token_label": (
        "What the token is for",
        "Pentru ce este tokenul",
        "Для чего токен",
        "Čemu je žeton namenjen",
        "למה משמש האסימון",
    ),
    "admin.token_once": (
        "Copy it now: it is shown only once.",
        "Copiați-l acum: este afișat o singură dată.",
        "Скопируйте сейчас: он показывается только один раз.",
        "Kopirajte ga zdaj: prikazan je samo enkrat.",
        "העתיקו אותו עכשיו: הוא מוצג פעם אחת בלבד.",
    ),
    "admin.you": ("you", "dvs.", "вы", "vi", "את/ה"),
    "admin.done": ("Done.", "Gata.", "Готово.", "Končano.", "בוצע."),
    # personas
    "nav.personas": ("Personas", "Persone", "Персоны", "Persone", "פרסונות"),
    "pe.title": ("Personas", "Persone", "Персоны", "Persone", "פרסונות"),
    "pe.intro": (
        "Who the maps are about, and how many customers each persona's segment matches now.",
        "Despre cine sunt hărțile și câți clienți corespund acum segmentului fiecărei persone.",
        "О ком эти карты и сколько клиентов сейчас попадает в сегмент каждой персоны.",
        "O kom govorijo zemljevidi in koliko strank trenutno ustreza segmentu vsake persone.",
        "על מי המפות מספרות, וכמה לקוחות תואמים כעת לפלח של כל פרסונה.",
    ),
    "pe.none": (
        "No personas in journeylens.yaml yet.",
        "Încă nu există persone în journeylens.yaml.",
        "В journeylens.yaml пока нет персон.",
        "V journeylens.yaml še ni person.",
        "עדיין אין פרסונות ב־journeylens.yaml.",
    ),
    "pe.name": ("Name", "Nume", "Имя", "Ime", "שם"),
    "pe.goals": ("Goals", "Obiective", "Цели", "Cilji", "מטרות"),
    "pe.needs": ("Needs", "Nevoi", "Потребности", "Potrebe", "צרכים"),
    "pe.frustrations": ("Frustrations", "Frustrări", "Разочарования", "Frustracije", "תסכולים"),
    "pe.motivations": ("Motivations", "Motivații", "Мотивы", "Motivacije", "מניעים"),
    "pe.behaviours": ("Behaviours", "Comportamente", "Поведение", "Vedenje", "התנהגויות"),
    "pe.jobs": (
        "Jobs to be done",
        "Sarcini de îndeplinit",
        "Задачи клиента",
        "Opravila, ki jih želi opraviti",
        "משימות לביצוע",
    ),
    "pe.quotes": ("Quotes", "Citate", "Цитаты", "Citati", "ציטוטים"),
    "pe.channels": (
        "Preferred channels",
        "Canale preferate",
        "Предпочитаемые каналы",
        "Prednostni kanali",
        "ערוצים מועדפים",
    ),
    "pe.segment": ("Segment", "Segment", "Сегмент", "Segment", "פלח"),
    "pe.matches": (
        "{customers} customers match now",
        "{customers} clienți corespund acum",
        "Сейчас подходит клиентов: {customers}",
        "Trenutno ustreza strank: {customers}",
        "{customers} לקוחות תואמים כעת",
    ),
    "pe.no_segment": (
        "No segment: no customers are tied to this persona.",
        "Fără segment: niciun client nu este legat de această persona.",
        "Нет сегмента: к этой персоне не привязаны клиенты.",
        "Brez segmenta: s to persono ni povezana nobena stranka.",
        "אין פלח: אין לקוחות המשויכים לפרסונה זו.",
    ),
    "pe.kind.persona": ("persona", "persona", "персона", "persona", "פרסונה"),
    "pe.kind.proto_persona": (
        "proto-persona",
        "proto-persona",
        "прото-персона",
        "proto-persona",
        "פרוטו־פרסונה",
    ),
    "pe.kind.stakeholder": (
        "stakeholder",
        "parte interesată",
        "заинтересованная сторона",
        "deležnik",
        "בעל/ת עניין",
    ),
    "pe.edit_title": (
        "Edit persona",
        "Editează persona",
        "Редактирование персоны",
        "Urejanje persone",
        "עריכת פרסונה",
    ),
    "pe.lines_hint": (
        "One per line.",
        "Câte unul pe rând.",
        "По одному в строке.",
        "Eno na vrstico.",
        "אחד בכל שורה.",
    ),
    "pe.language_note": (
        "You are editing the texts in {language}; their other translations stay as they are.",
        "Editați textele în {language}; celelalte traduceri rămân neschimbate.",
        "Вы редактируете тексты на языке «{language}»; другие переводы не меняются.",
        "Besedila urejate v jeziku {language}; drugi prevodi ostanejo nespremenjeni.",
        "הטקסטים נערכים בשפה: {language}; שאר התרגומים נשארים כפי שהם.",
    ),
    "pe.segment_hint": (
        "A selector: customers with at least one matching event are members.",
        "Un selector: clienții cu cel puțin un eveniment potrivit sunt membri.",
        "Селектор: в сегмент входят клиенты хотя бы с одним подходящим событием.",
        "Selektor: člani so stranke z vsaj enim ujemajočim se dogodkom.",
        "בורר: לקוחות עם לפחות אירוע תואם אחד הם חברים בפלח.",
    ),
    "pe.save": (
        "Save persona",
        "Salvează persona",
        "Сохранить персону",
        "Shrani persono",
        "שמירת הפרסונה",
    ),
    "pe.saved": ("Saved.", "Salvat.", "Сохранено.", "Shranjeno.", "נשמר."),
    "pe.back": (
        "Back to personas",
        "Înapoi la persone",
        "Назад к персонам",
        "Nazaj na persone",
        "חזרה לפרסונות",
    ),
    # stages in the map editor
    "edit.stages": ("Stages", "Etape", "Этапы", "Faze", "שלבים"),
    "edit.stage": ("Stage", "Etapă", "Этап", "Faza", "שלב"),
    "edit.stage_hint": (
        "Choose a stage to rename, move or delete it (only an empty stage can be deleted).",
        "Alegeți o etapă pentru a o redenumi, muta sau șterge (doar o etapă goală se poate "
        "șterge).",
        "Выберите этап, чтобы переименовать, переместить или удалить его (удалить можно только "
        "пустой этап).",
        "Izberite fazo, da jo preimenujete, premaknete ali izbrišete (izbrisati je mogoče le "
        "prazno fazo).",
        "בחרו שלב כדי לשנות את שמו, להזיז אותו או למחוק אותו (אפשר למחוק רק שלב ריק).",
    ),
    "edit.stage_name": (
        "Stage name",
        "Numele etapei",
        "Название этапа",
        "Ime faze",
        "שם השלב",
    ),
    "edit.rename_stage": ("Rename", "Redenumește", "Переименовать", "Preimenuj", "שינוי שם"),
    "edit.stage_earlier": (
        "Move stage earlier",
        "Mută etapa mai devreme",
        "Переместить этап раньше",
        "Premakni fazo prej",
        "הזזת השלב מוקדם יותר",
    ),
    "edit.stage_later": (
        "Move stage later",
        "Mută etapa mai târziu",
        "Переместить этап позже",
        "Premakni fazo pozneje",
        "הזזת השלב מאוחר יותר",
    ),
    "edit.delete_stage": (
        "Delete empty stage",
        "Șterge etapa goală",
        "Удалить пустой этап",
        "Izbriši prazno fazo",
        "מחיקת שלב ריק",
    ),
    "edit.confirm_delete_stage": (
        "Delete this stage?",
        "Ștergeți această etapă?",
        "Удалить этот этап?",
        "Izbrišem to fazo?",
        "למחוק את השלב?",
    ),
    "edit.add_stage": (
        "Add a stage after this one",
        "Adaugă o etapă după aceasta",
        "Добавить этап после этого",
        "Dodaj fazo za to",
        "הוספת שלב אחרי שלב זה",
    ),
    "edit.new_stage_id": (
        "New stage id",
        "Id-ul noii etape",
        "Id нового этапа",
        "Id nove faze",
        "מזהה השלב החדש",
    ),
    "edit.empty_stage": (
        "No steps yet",
        "Încă nu are pași",
        "Пока нет шагов",
        "Še brez korakov",
        "עדיין אין צעדים",
    ),
    # the editor's lane fields
    "edit.lanes": (
        "Lanes",
        "Benzi",
        "Дорожки",
        "Pasovi",
        "מסלולים",
    ),
    "edit.lanes_hint": (
        "One item per line. Leave a field empty to clear its lane.",
        "Câte un element pe rând. Lăsați un câmp gol pentru a-i goli banda.",
        "По одному элементу в строке. Оставьте поле пустым, чтобы очистить дорожку.",
        "En element na vrstico. Pustite polje prazno, da izpraznite njegov pas.",
        "פריט אחד בכל שורה. השאירו שדה ריק כדי לרוקן את המסלול שלו.",
    ),
    "edit.emotion_label": (
        "Emotion label",
        "Eticheta emoției",
        "Название эмоции",
        "Oznaka čustva",
        "תווית הרגש",
    ),
    "edit.emotion_label_hint": (
        "A word for the feeling, e.g. frustrated",
        "Un cuvânt pentru sentiment, de ex. frustrare",
        "Слово для чувства, напр. раздражение",
        "Beseda za občutek, npr. frustracija",
        "מילה לתחושה, למשל תסכול",
    ),
    "edit.pain_points": (
        "Pain points (one per line)",
        "Puncte de durere (câte unul pe rând)",
        "Болевые точки (по одной в строке)",
        "Boleče točke (ena na vrstico)",
        "נקודות כאב (אחת בכל שורה)",
    ),
    "edit.pain_points_hint": (
        "Write “severity: text”; severity is low, medium, high or critical "
        "(medium when left out), e.g. high: The size chart is hidden",
        "Scrieți „severitate: text”; severitatea este low, medium, high sau critical "
        "(medium dacă lipsește), de ex. high: Tabelul de mărimi este ascuns",
        "Пишите «серьёзность: текст»; серьёзность — low, medium, high или critical "
        "(medium, если не указана), напр. high: Таблица размеров спрятана",
        "Pišite »resnost: besedilo«; resnost je low, medium, high ali critical "
        "(medium, če je ni), npr. high: Tabela velikosti je skrita",
        "כתבו „חומרה: טקסט”; החומרה היא low, medium, high או critical "
        "(medium אם לא צוינה), למשל high: טבלת המידות מוסתרת",
    ),
    "edit.gains": (
        "Gains (one per line)",
        "Câștiguri (câte unul pe rând)",
        "Выгоды (по одной в строке)",
        "Koristi (ena na vrstico)",
        "רווחים (אחד בכל שורה)",
    ),
    "edit.gains_hint": (
        "What the customer gets out of this step",
        "Ce câștigă clientul din acest pas",
        "Что клиент получает на этом шаге",
        "Kaj stranka pridobi s tem korakom",
        "מה הלקוח מרוויח בצעד הזה",
    ),
    "edit.physical_evidence": (
        "Physical evidence (one per line)",
        "Dovezi fizice (câte una pe rând)",
        "Физические свидетельства (по одному в строке)",
        "Fizični dokazi (en na vrstico)",
        "ראיות פיזיות (אחת בכל שורה)",
    ),
    "edit.physical_evidence_hint": (
        "What the customer sees or touches: places, screens, emails, receipts",
        "Ce vede sau atinge clientul: locuri, ecrane, e-mailuri, chitanțe",
        "Что клиент видит или трогает: места, экраны, письма, чеки",
        "Kaj stranka vidi ali otipa: prostori, zasloni, e-pošta, računi",
        "מה הלקוח רואה או נוגע בו: מקומות, מסכים, מיילים, קבלות",
    ),
    "edit.frontstage": (
        "Frontstage (one per line)",
        "În fața clientului (câte un element pe rând)",
        "Фронт-офис (по одному в строке)",
        "Pred stranko (en na vrstico)",
        "מול הלקוח (אחד בכל שורה)",
    ),
    "edit.frontstage_hint": (
        "What staff and systems do in the customer's view",
        "Ce fac angajații și sistemele sub ochii clientului",
        "Что сотрудники и системы делают на глазах у клиента",
        "Kaj osebje in sistemi počnejo pred očmi stranke",
        "מה העובדים והמערכות עושים מול עיני הלקוח",
    ),
    "edit.backstage": (
        "Backstage (one per line)",
        "În culise (câte un element pe rând)",
        "Бэк-офис (по одному в строке)",
        "Za odrom (en na vrstico)",
        "מאחורי הקלעים (אחד בכל שורה)",
    ),
    "edit.backstage_hint": (
        "What staff and systems do out of the customer's sight",
        "Ce fac angajații și sistemele departe de ochii clientului",
        "Что сотрудники и системы делают вне поля зрения клиента",
        "Kaj osebje in sistemi počnejo zunaj pogleda stranke",
        "מה העובדים והמערכות עושים הרחק מעיני הלקוח",
    ),
    "edit.support": (
        "Support processes (one per line)",
        "Procese de suport (câte unul pe rând)",
        "Процессы поддержки (по одному в строке)",
        "Podporni procesi (en na vrstico)",
        "תהליכי תמיכה (אחד בכל שורה)",
    ),
    "edit.support_hint": (
        "Systems, partners and processes the step relies on",
        "Sisteme, parteneri și procese pe care se bazează pasul",
        "Системы, партнёры и процессы, на которые опирается шаг",
        "Sistemi, partnerji in procesi, na katere se korak opira",
        "מערכות, שותפים ותהליכים שהצעד נשען עליהם",
    ),
    "edit.owner": (
        "Owner",
        "Responsabil",
        "Ответственный",
        "Lastnik",
        "אחראי",
    ),
    "edit.owner_hint": (
        "The department or team that owns this step",
        "Departamentul sau echipa responsabilă de acest pas",
        "Отдел или команда, отвечающие за этот шаг",
        "Oddelek ali ekipa, ki je lastnik tega koraka",
        "המחלקה או הצוות שאחראים על הצעד",
    ),
    # paths (Sankey) on the analytics page
    "an.paths": (
        "Paths (Sankey)",
        "Trasee (Sankey)",
        "Пути (диаграмма Сэнки)",
        "Poti (Sankey)",
        "מסלולים (סנקי)",
    ),
    "an.paths_hint": (
        "Where journeys go after an event, or where they came from before it.",
        "Unde merg călătoriile după un eveniment sau de unde au venit înainte de el.",
        "Куда клиенты идут после события или откуда пришли до него.",
        "Kam gredo poti po dogodku oziroma od kod so prišle pred njim.",
        "לאן מסעות ממשיכים אחרי אירוע, או מאין הגיעו לפניו.",
    ),
    "an.anchor": (
        "Anchor event (selector)",
        "Eveniment de referință (selector)",
        "Опорное событие (селектор)",
        "Sidrni dogodek (selektor)",
        "אירוע עוגן (בורר)",
    ),
    "an.direction": ("Direction", "Direcție", "Направление", "Smer", "כיוון"),
    "an.direction.after": ("after", "după", "после", "po", "אחרי"),
    "an.direction.before": ("before", "înainte", "до", "pred", "לפני"),
    "an.steps": ("Steps", "Pași", "Шаги", "Koraki", "צעדים"),
    "an.top_values": (
        "Values per step",
        "Valori pe pas",
        "Значений на шаг",
        "Vrednosti na korak",
        "ערכים בכל צעד",
    ),
    "an.paths_summary": (
        "{anchored} of {journeys} journeys have the anchor event",
        "{anchored} din {journeys} călătorii au evenimentul de referință",
        "Опорное событие есть в {anchored} из {journeys} маршрутов",
        "Sidrni dogodek ima {anchored} od {journeys} poti",
        "ל־{anchored} מתוך {journeys} מסעות יש את אירוע העוגן",
    ),
    # errors
    "error.forbidden": ("Not allowed", "Nepermis", "Доступ запрещён", "Ni dovoljeno", "אין הרשאה"),
    "error.needs_role": (
        "This page needs the {role} role; you are {current}.",
        "Această pagină necesită rolul {role}; aveți rolul {current}.",
        "Для этой страницы нужна роль «{role}»; у вас «{current}».",
        "Ta stran zahteva vlogo {role}; vi ste {current}.",
        "דף זה דורש את התפקיד {role}; התפקיד שלך: {current}.",
    ),
    "error.not_found": ("Not found", "Nu a fost găsit", "Не найдено", "Ni najdeno", "לא נמצא"),
    "error.failed": (
        "Something went wrong",
        "Ceva nu a mers",
        "Что-то пошло не так",
        "Nekaj je šlo narobe",
        "משהו השתבש",
    ),
}

STRINGS: dict[str, dict[str, str]] = {
    key: dict(zip(LANGUAGES, values, strict=True)) for key, values in _TABLE.items()
}


def translate(lang: str, key: str, **values: object) -> str:
    """``key`` in ``lang`` (English when missing), with ``{name}`` placeholders filled."""
    entry = STRINGS.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT]
    return text.format(**values) if values else text


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return t


def strings(lang: str) -> dict[str, str]:
    """Every string in ``lang``, for the pages' scripts."""
    return {key: entry.get(lang) or entry[DEFAULT] for key, entry in STRINGS.items()}


def _accepted(header: str) -> list[str]:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag:
            ranked.append((-quality, position, tag.lower()))
    return [tag for quality, _, tag in sorted(ranked) if quality < 0]


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> tuple[str, bool]:
    """The page language, and whether it was asked for explicitly (``?lang=``)."""
    if query and query in LANGUAGES:
        return query, True
    if cookie and cookie in LANGUAGES:
        return cookie, False
    for tag in _accepted(accept_language or ""):
        base = tag.split("-")[0]
        if base == "iw":  # the old code for Hebrew
            base = "he"
        if base in LANGUAGES:
            return base, False
    return DEFAULT, False


def direction(lang: str) -> str:
    return "rtl" if lang.split("-")[0] in RTL else "ltr"


def text_in(value: str | Mapping[str, str] | None, lang: str, fallback: str = "") -> str:
    """A model ``Text`` (plain or ``{language: text}``) in ``lang`` or its first language."""
    if value is None:
        return fallback
    if isinstance(value, str):
        return value
    return value.get(lang) or next(iter(value.values()), fallback)
