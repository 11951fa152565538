"""Every word the teaching app shows, in Spanish and English.

Texts are looked up by key with `t`; lesson texts by lesson id with `lesson_text`. A test checks that both
languages have the same keys, so a label never falls back to the wrong language. `number` writes numbers as each
language does. The module is kept whole, over 400 lines: it is the two languages' texts side by side, which a
translator reads in one place.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["LANGUAGES", "LESSONS", "UI", "Lang", "lesson_text", "number", "t"]

Lang = Literal["es", "en"]
LANGUAGES: tuple[Lang, ...] = ("es", "en")

UI: dict[str, dict[str, str]] = {
    "es": {
        "title": "Aula del Espectro CX",
        "subtitle": "Un pueblo de {n} personas y un operador móvil: cada punto es una persona.",
        "lesson": "Lección",
        "explanation": "Qué muestra",
        "try": "Prueba esto",
        "question": "Pregunta para la clase",
        "levers": "Palancas",
        "levers_hint": "Los cambios se aplican al pulsar Reiniciar.",
        "pending": "Hay cambios sin aplicar: pulsa Reiniciar.",
        "in_run": "En esta simulación",
        "step": "Paso",
        "step_counter": "Paso {step} de {total} (semana {step})",
        "finished": "Fin del año simulado.",
        "btn_step": "Paso",
        "btn_play": "Reproducir",
        "btn_pause": "Pausa",
        "btn_reset": "Reiniciar",
        "export": "Exportar para diapositivas",
        "btn_png": "Imagen PNG",
        "btn_gif": "Animación GIF",
        "network": "Red de clientes",
        "network_note": "Cada punto es una persona; las líneas, sus contactos (red de mundo pequeño).",
        "charts": "Indicadores",
        "chart_stages": "Personas por etapa",
        "chart_active": "Clientes activos",
        "chart_money": "Dinero por semana",
        "chart_nps": "NPS",
        "chart_wom": "Boca a boca por semana",
        "spectrum": "Espectro CX: personas por etapa",
        "presenter": "Modo proyector",
        "pyr_title": "Pirámide CX de la última semana",
        "pyr_note": "Cada interacción responde de abajo arriba; la barra llena es la parte que sí.",
        "pyr.met": "¿Resolví mi necesidad?",
        "pyr.easy": "¿Fue fácil?",
        "pyr.good": "¿Me sentí bien?",
        "unit.score": "puntuación",
        "unit.probability": "probabilidad",
        "unit.1/month": "1/mes",
        "speed": "Velocidad",
        "speed.slow": "Lenta",
        "speed.normal": "Normal",
        "speed.fast": "Rápida",
        "btn_town": "Otro pueblo",
        "town": "Pueblo {n}",
        "btn_csv": "Datos CSV",
        "chart_ces": "Esfuerzo (CES) por semana",
        "wom_good": "bueno",
        "wom_bad": "malo",
        "tellings": "relatos",
        "ces_scale": "1 fácil … 7 difícil",
        "revenue": "ingresos",
        "profit": "beneficio",
        "week": "semana",
        "people": "personas",
        "customers": "clientes",
        "currency": "EUR",
        "points": "puntos",
        "concepts": "Conceptos",
        "stages_title": "Las seis etapas del Espectro CX",
        "stages_text": (
            "Necesidades: lo esencial (cobertura, una factura razonable); si falla, el cliente se va. "
            "Expectativas: lo que espera de la marca; cumplirlas acerca la compra. "
            "Deseos: necesidades emocionales; aquí compra. "
            "Preferencias: que sea fácil, a su manera. "
            "Personalización: el cuerpo de la relación, una experiencia hecha para él. "
            "Empatía: el alma; se siente comprendido y la relación es emocional, la lealtad más fuerte."
        ),
        "pyramid_title": "La pirámide de CX",
        "pyramid_text": (
            "Cada interacción se juzga con tres preguntas, de la base a la cima: ¿resolví mi necesidad? "
            "¿fue fácil? ¿me sentí bien? Si la base falla, lo de arriba apenas cuenta. "
            "La satisfacción nace de comparar lo percibido con lo esperado, y una decepción pesa más que una sorpresa."
        ),
        "legend": "Leyenda",
        "lang": "Idioma",
        "prospects": "Potenciales",
        "churned": "Perdidos",
        "needs": "Necesidades",
        "at_risk": "En riesgo",
        "expectations": "Expectativas",
        "desires": "Deseos",
        "preferences": "Preferencias",
        "personalization": "Personalización",
        "empathy": "Empatía",
        "lever.touchpoints.service.effort": "Esfuerzo del cliente",
        "lever.touchpoints.service.empathy": "Empatía",
        "lever.touchpoints.service.personalization": "Personalización",
        "lever.touchpoints.service.fulfilment": "Necesidad resuelta (1 − tasa de fallos)",
        "lever.word_of_mouth.loyalty_effect": "Fuerza del boca a boca",
        "lever.market.marketing": "Marketing (captación)",
        "help.touchpoints.service.effort": "Esfuerzo medio de una interacción (0 sin esfuerzo, 1 tortura).",
        "help.touchpoints.service.empathy": "Cuánto se siente comprendido y cuidado el cliente.",
        "help.touchpoints.service.personalization": "Cuánto se adapta la interacción al cliente.",
        "help.touchpoints.service.fulfilment": "Probabilidad de que se resuelva la necesidad (1 − tasa de fallos).",
        "help.word_of_mouth.loyalty_effect": "Cambio de lealtad por cada unidad neta de boca a boca escuchada.",
        "help.market.marketing": "Probabilidad mensual de que un potencial se haga cliente solo por el marketing.",
        "mon.active": "Clientes activos",
        "mon.churned": "Perdidos (ahora)",
        "mon.retention": "Retención",
        "mon.nps": "NPS",
        "mon.ces": "CES (1 fácil, 7 difícil)",
        "mon.wom_positive": "Boca a boca bueno",
        "mon.wom_negative": "Boca a boca malo",
        "mon.profit": "Beneficio acumulado",
        "run": "Simulación",
        "run_now": "Simulación actual",
        "preset_levers": "palancas de la lección",
        "runs_title": "Simulaciones a comparar (en su última semana)",
        "week_col": "Semana",
        "not_a_number": "No es un número: escribe, p. ej., 0,45",
        "btn_clear": "Borrar simulaciones",
        "flash_note": "Líneas verdes y rojas: contactos por los que pasó un relato bueno o malo esta semana.",
        "guide": "Guía para el docente",
        "guide.time": "Tiempo",
        "guide.answers": "Qué debería encontrar la clase",
        "guide.prompts": "Para el debate",
        "sq.title": "Brecha SERVQUAL de la última semana",
        "sq.note": "Lo que los clientes esperaban del servicio antes de cada interacción frente a lo que percibieron "
        "(0 a 1). Una brecha negativa resta lealtad.",
        "sq.expected": "Esperaban",
        "sq.perceived": "Percibieron",
        "sq.gap": "Brecha",
        "insp.title": "Una persona",
        "insp.hint": "Pulsa un punto de la red para seguir a esa persona.",
        "insp.person": "Persona n.º {i}",
        "insp.now": "Etapa ahora",
        "insp.history": "Su etapa semana a semana",
        "insp.loyalty": "Lealtad (0 a 1)",
        "insp.expects": "Lo que espera (0 a 1)",
        "insp.frustration": "Frustración recordada (experiencias, se olvida)",
        "insp.week": "Esta semana",
        "insp.uses": "Interacciones",
        "insp.met": "Necesidad resuelta",
        "insp.ease": "Facilidad sentida (0 a 1)",
        "insp.feel": "Emoción sentida (0 a 1)",
        "insp.memorable": "Experiencias memorables: buenas {good}, malas {bad}",
        "insp.told": "Contó: {good} buenas, {bad} malas",
        "insp.heard": "Oyó: {good} buenas, {bad} malas",
        "insp.neighbours": "Contactos: {n}; de ellos, clientes: {c}",
        "insp.close": "Dejar de seguir",
    },
    "en": {
        "title": "CX Spectrum classroom",
        "subtitle": "A town of {n} people and a mobile operator: each dot is a person.",
        "lesson": "Lesson",
        "explanation": "What it shows",
        "try": "Try this",
        "question": "Question for the class",
        "levers": "Levers",
        "levers_hint": "Changes apply when you press Reset.",
        "pending": "Changes not applied yet: press Reset.",
        "in_run": "In this run",
        "step": "Step",
        "step_counter": "Step {step} of {total} (week {step})",
        "finished": "End of the simulated year.",
        "btn_step": "Step",
        "btn_play": "Play",
        "btn_pause": "Pause",
        "btn_reset": "Reset",
        "export": "Export for slides",
        "btn_png": "PNG image",
        "btn_gif": "GIF animation",
        "network": "Customer network",
        "network_note": "Each dot is a person; lines are their contacts (a small-world network).",
        "charts": "Indicators",
        "chart_stages": "People by stage",
        "chart_active": "Active customers",
        "chart_money": "Money per week",
        "chart_nps": "NPS",
        "chart_wom": "Word of mouth per week",
        "spectrum": "CX Spectrum: people by stage",
        "presenter": "Projector mode",
        "pyr_title": "CX pyramid of the last week",
        "pyr_note": "Every interaction answers from the bottom up; the filled bar is the share that says yes.",
        "pyr.met": "Was my need met?",
        "pyr.easy": "Was it easy?",
        "pyr.good": "Did I feel good?",
        "unit.score": "score",
        "unit.probability": "probability",
        "unit.1/month": "1/month",
        "speed": "Speed",
        "speed.slow": "Slow",
        "speed.normal": "Normal",
        "speed.fast": "Fast",
        "btn_town": "New town",
        "town": "Town {n}",
        "btn_csv": "CSV data",
        "chart_ces": "Effort (CES) per week",
        "wom_good": "good",
        "wom_bad": "bad",
        "tellings": "tellings",
        "ces_scale": "1 easy … 7 hard",
        "revenue": "revenue",
        "profit": "profit",
        "week": "week",
        "people": "people",
        "customers": "customers",
        "currency": "EUR",
        "points": "points",
        "concepts": "Concepts",
        "stages_title": "The six stages of the CX Spectrum",
        "stages_text": (
            "Needs: the essentials (coverage, a fair bill); fail them and the customer leaves. "
            "Expectations: what they expect of the brand; meeting them brings the purchase closer. "
            "Desires: emotional needs; this is where they buy. "
            "Preferences: easy, and their way. "
            "Personalization: the body of the relationship, an experience made for them. "
            "Empathy: its soul; they feel understood, the bond is emotional and loyalty strongest."
        ),
        "pyramid_title": "The CX pyramid",
        "pyramid_text": (
            "Every interaction is judged by three questions, from the base up: was my need met? was it easy? "
            "did it feel good? If the base fails, the upper levels barely count. Satisfaction comes from "
            "comparing what was perceived with what was expected, and a letdown weighs more than a pleasant surprise."
        ),
        "legend": "Legend",
        "lang": "Language",
        "prospects": "Prospects",
        "churned": "Churned",
        "needs": "Needs",
        "at_risk": "At risk",
        "expectations": "Expectations",
        "desires": "Desires",
        "preferences": "Preferences",
        "personalization": "Personalization",
        "empathy": "Empathy",
        "lever.touchpoints.service.effort": "Customer effort",
        "lever.touchpoints.service.empathy": "Empathy",
        "lever.touchpoints.service.personalization": "Personalization",
        "lever.touchpoints.service.fulfilment": "Need met (1 − failure rate)",
        "lever.word_of_mouth.loyalty_effect": "Word-of-mouth strength",
        "lever.market.marketing": "Marketing (acquisition)",
        # English help texts are the parameter declarations themselves (see levers.py).
        "help.touchpoints.service.effort": "",
        "help.touchpoints.service.empathy": "",
        "help.touchpoints.service.personalization": "",
        "help.touchpoints.service.fulfilment": "",
        "help.word_of_mouth.loyalty_effect": "",
        "help.market.marketing": "",
        "mon.active": "Active customers",
        "mon.churned": "Churned (now)",
        "mon.retention": "Retention",
        "mon.nps": "NPS",
        "mon.ces": "CES (1 easy, 7 hard)",
        "mon.wom_positive": "Good word of mouth",
        "mon.wom_negative": "Bad word of mouth",
        "mon.profit": "Cumulative profit",
        "run": "Run",
        "run_now": "Current run",
        "preset_levers": "the lesson's levers",
        "runs_title": "Runs to compare (at their last week)",
        "week_col": "Week",
        "not_a_number": "Not a number: type, e.g., 0.45",
        "btn_clear": "Clear runs",
        "flash_note": "Green and red lines: contacts a good or bad story went along this week.",
        "guide": "Teacher guide",
        "guide.time": "Time",
        "guide.answers": "What the class should find",
        "guide.prompts": "For the discussion",
        "sq.title": "SERVQUAL gap of the last week",
        "sq.note": "What customers expected of the service before each interaction against what they perceived "
        "(0 to 1). A negative gap costs loyalty.",
        "sq.expected": "Expected",
        "sq.perceived": "Perceived",
        "sq.gap": "Gap",
        "insp.title": "One person",
        "insp.hint": "Click a dot on the network to follow that person.",
        "insp.person": "Person no. {i}",
        "insp.now": "Stage now",
        "insp.history": "Their stage week by week",
        "insp.loyalty": "Loyalty (0 to 1)",
        "insp.expects": "What they expect (0 to 1)",
        "insp.frustration": "Remembered frustration (experiences, fading)",
        "insp.week": "This week",
        "insp.uses": "Interactions",
        "insp.met": "Need met",
        "insp.ease": "Felt ease (0 to 1)",
        "insp.feel": "Felt emotion (0 to 1)",
        "insp.memorable": "Memorable experiences: {good} good, {bad} bad",
        "insp.told": "Told: {good} good, {bad} bad",
        "insp.heard": "Heard: {good} good, {bad} bad",
        "insp.neighbours": "Contacts: {n}; of them, customers: {c}",
        "insp.close": "Stop following",
    },
}

LESSONS: dict[str, dict[str, dict[str, str]]] = {
    "es": {
        "pyramid": {
            "title": "1. La pirámide: primero, resolver",
            "explanation": (
                "El servicio es amable (empatía alta), pero una de cada tres veces no resuelve lo que el cliente "
                "necesitaba. La base de la pirámide falla: el trato cálido no compensa un problema sin resolver, "
                "el NPS cae y los clientes se quedan en las primeras etapas o se van."
            ),
            "try": (
                "Ejecuta medio año. Luego sube «Necesidad resuelta» a 0,95, pulsa Reiniciar y compara. "
                "Después prueba, en cambio, a subir la empatía al máximo con la base rota."
            ),
            "question": "¿Qué mejora más la lealtad: resolver mejor o tratar mejor? ¿Por qué el orden de la pirámide?",
        },
        "effort_vs_delight": {
            "title": "2. Esfuerzo frente a deleite",
            "explanation": (
                "La empresa invierte en momentos «wow» (empatía y personalización altas), pero cada gestión cuesta "
                "mucho esfuerzo: esperas, transferencias, repetir los datos. Los clientes que disfrutan el trato "
                "igualmente se frustran, y la frustración acumulada empuja a la baja."
            ),
            "try": (
                "Baja el esfuerzo a 0,25 y reinicia. Compara con la situación inicial: ¿cuántos clientes activos "
                "y qué NPS al final del año? Luego baja la empatía y la personalización a 0,4 manteniendo poco "
                "esfuerzo."
            ),
            "question": (
                "Si solo pudieras financiar un proyecto, ¿reducir el esfuerzo o crear momentos de deleite? "
                "¿Qué dice la simulación sobre quién se va y quién se queda?"
            ),
        },
        "bad_news": {
            "title": "3. Las malas noticias viajan",
            "explanation": (
                "Una mala experiencia se cuenta a muchos más contactos que una buena (cerca de cuatro veces más). "
                "Con un 20 % de fallos, el boca a boca negativo recorre la red: mira cómo los grises oscuros y las "
                "etapas bajas se agrupan en vecindarios."
            ),
            "try": (
                "Ejecuta unos pasos y observa las líneas rojas de la red. Baja «Necesidad resuelta» a 0,7 y "
                "reinicia: más líneas rojas, menos clientes. Luego súbela a 0,97 y compara las tres simulaciones."
            ),
            "question": (
                "Si el boca a boca amplifica todo, ¿conviene más gastar en marketing o en eliminar fallos? "
                "¿Dónde veis en la red los focos de detractores?"
            ),
        },
        "personalization_empathy": {
            "title": "4. Personalización y empatía",
            "explanation": (
                "El servicio resuelve y es fácil, pero es genérico y frío. Los clientes llegan a «Deseos» y se "
                "estancan: para seguir subiendo la interacción tiene que sentirse bien, y para llegar a "
                "Personalización y Empatía hace falta algo hecho a medida y sentirse comprendido. "
                "Son el cuerpo y el alma de la relación."
            ),
            "try": (
                "Sube la personalización a 0,7 y reinicia: ¿cuántos llegan a Personalización? Luego sube también "
                "la empatía a 0,8. Observa el gasto: los clientes de etapas altas gastan más."
            ),
            "question": (
                "¿Qué ejemplos de personalización y de empatía conocéis en vuestro sector? "
                "¿Se puede tener empatía sin personalización?"
            ),
        },
        "retention_economics": {
            "title": "5. La economía de la retención",
            "explanation": (
                "La empresa compra crecimiento: mucho marketing y un servicio mediocre. Gana clientes, pero cada "
                "uno cuesta 90 EUR captarlo, unas cinco veces lo que cuesta mantenerlo un año, y muchos se van "
                "antes de devolver esa inversión."
            ),
            "try": (
                "Mira el beneficio acumulado al final del año. Luego baja el marketing a 0,003, baja el esfuerzo a "
                "0,3, sube «Necesidad resuelta» a 0,95 y reinicia. Compara clientes, perdidos y beneficio."
            ),
            "question": (
                "¿Por qué retener es más rentable que captar? ¿Qué le diríais a un director comercial que solo "
                "mide las altas?"
            ),
        },
        "journey": {
            "title": "6. El recorrido del cliente",
            "explanation": (
                "El cliente pasa por varios puntos de contacto: la app (rápida, resuelve casi todo), la tienda "
                "(cálida) y la línea telefónica, que falla tres de cada diez veces y cansa. Las palancas mueven "
                "solo la línea telefónica: es el eslabón débil, aunque sea una parte pequeña de las visitas."
            ),
            "try": (
                "Ejecuta medio año. Luego sube «Necesidad resuelta» a 0,93 y baja el «Esfuerzo» a 0,3, pulsa "
                "Reiniciar y compara clientes activos y NPS. Sigue a una persona en la red: ¿qué le pasa cuando llama?"
            ),
            "question": (
                "Si la app funciona bien, ¿por qué importa tanto un contacto que casi nadie usa? ¿Cuál es el eslabón "
                "débil del recorrido de vuestros clientes?"
            ),
        },
        "servqual": {
            "title": "7. La brecha SERVQUAL",
            "explanation": (
                "La calidad no se juzga sola: se compara con lo que el cliente esperaba (la brecha SERVQUAL). "
                "Con un servicio correcto, la gente recibe más o menos lo que espera y la brecha ronda el cero. "
                "Las expectativas aprenden: lo que hoy sorprende, mañana es lo normal."
            ),
            "try": (
                "Ejecuta unas semanas y mira la tarjeta de la brecha. Sube la «Empatía» a 0,9, baja el «Esfuerzo» "
                "a 0,2 y reinicia: mira cómo salta la brecha y cómo, semana a semana, las expectativas suben y la "
                "brecha se encoge."
            ),
            "question": (
                "Si las expectativas alcanzan a la calidad, ¿para qué mejorar? ¿Qué pasaría si la empresa volviera "
                "al servicio de antes con las expectativas ya altas?"
            ),
        },
        "free_play": {
            "title": "8. Exploración libre",
            "explanation": (
                "El pueblo de partida sin ajustes: un 30 % ya es cliente y el servicio es correcto pero mejorable. "
                "Úsalo para las preguntas de la clase."
            ),
            "try": "Cambia una sola palanca cada vez, reinicia y compara con la misma semilla.",
            "question": "¿Qué palanca mueve más el NPS por unidad de cambio? ¿Y el beneficio?",
        },
    },
    "en": {
        "pyramid": {
            "title": "1. The pyramid: first, solve it",
            "explanation": (
                "The service is kind (high empathy), but one time in three it does not solve what the customer "
                "needed. The base of the pyramid fails: a warm tone does not make up for an unsolved problem, NPS "
                "falls and customers stay in the first stages or leave."
            ),
            "try": (
                "Run half a year. Then raise 'Need met' to 0.95, press Reset and compare. Then try instead raising "
                "empathy to the top with the base still broken."
            ),
            "question": "What improves loyalty more: solving better or treating better? Why the order of the pyramid?",
        },
        "effort_vs_delight": {
            "title": "2. Effort against delight",
            "explanation": (
                "The company invests in 'wow' moments (high empathy and personalization), but every request takes "
                "a lot of effort: waiting, transfers, repeating one's details. Customers who enjoy the tone still "
                "get frustrated, and remembered frustration drags them down."
            ),
            "try": (
                "Lower effort to 0.25 and reset. Compare with the start: how many active customers and what NPS at "
                "the end of the year? Then lower empathy and personalization to 0.4 while keeping effort low."
            ),
            "question": (
                "If you could fund only one project, would you cut effort or create moments of delight? What does "
                "the simulation say about who leaves and who stays?"
            ),
        },
        "bad_news": {
            "title": "3. Bad news travels",
            "explanation": (
                "A bad experience is told to far more contacts than a good one (about four times more). With 20 % "
                "of contacts failing, negative word of mouth runs through the network: watch dark greys and low "
                "stages cluster in neighbourhoods."
            ),
            "try": (
                "Run a few steps and watch the red lines on the network. Lower 'Need met' to 0.7 and reset: more red "
                "lines, fewer customers. Then raise it to 0.97 and compare the three runs."
            ),
            "question": (
                "If word of mouth amplifies everything, is it better to spend on marketing or on removing failures? "
                "Where in the network do you see pockets of detractors?"
            ),
        },
        "personalization_empathy": {
            "title": "4. Personalization and empathy",
            "explanation": (
                "The service solves problems and is easy, but generic and cold. Customers reach 'Desires' and "
                "stall: to climb further an interaction has to feel good, and reaching Personalization and "
                "Empathy takes something made for them and feeling understood. They are the body and the soul "
                "of the relationship."
            ),
            "try": (
                "Raise personalization to 0.7 and reset: how many reach Personalization? Then raise empathy to 0.8 "
                "as well. Watch spend: customers in higher stages spend more."
            ),
            "question": (
                "What examples of personalization and of empathy do you know in your sector? Can there be empathy "
                "without personalization?"
            ),
        },
        "retention_economics": {
            "title": "5. The economics of retention",
            "explanation": (
                "The company buys growth: heavy marketing and a mediocre service. It wins customers, but each one "
                "costs 90 EUR to acquire, about five times the cost of keeping one for a year, and many leave "
                "before paying that back."
            ),
            "try": (
                "Look at cumulative profit at the end of the year. Then lower marketing to 0.003, lower effort to "
                "0.3, raise 'Need met' to 0.95 and reset. Compare customers, churned and profit."
            ),
            "question": (
                "Why is keeping customers more profitable than winning them? What would you tell a sales director "
                "who only counts new sign-ups?"
            ),
        },
        "journey": {
            "title": "6. The customer journey",
            "explanation": (
                "Customers pass through several touchpoints: the app (fast, solves almost everything), the shop "
                "(warm) and the phone line, which fails three times in ten and tires people out. The levers move "
                "only the phone line: it is the weak link, although it is a small share of the visits."
            ),
            "try": (
                "Run half a year. Then raise 'Need met' to 0.93 and lower 'Customer effort' to 0.3, press Reset and "
                "compare active customers and NPS. Follow one person on the network: what happens when they call?"
            ),
            "question": (
                "If the app works well, why does a touchpoint that few use matter so much? What is the weak link of "
                "your customers' journey?"
            ),
        },
        "servqual": {
            "title": "7. The SERVQUAL gap",
            "explanation": (
                "Quality is not judged alone: it is compared with what the customer expected (the SERVQUAL gap). "
                "With a sound, ordinary service people get about what they expect, and the gap is near zero. "
                "Expectations learn: what surprises today is normal tomorrow."
            ),
            "try": (
                "Run a few weeks and watch the gap card. Raise 'Empathy' to 0.9, lower 'Customer effort' to 0.2 and "
                "reset: watch the gap jump, then expectations rise week by week and the gap shrink."
            ),
            "question": (
                "If expectations catch up with quality, why improve? What would happen if the firm went back to "
                "the old service with expectations already high?"
            ),
        },
        "free_play": {
            "title": "8. Free exploration",
            "explanation": (
                "The starting town with no adjustments: 30 % are already customers and the service is fair but "
                "could be better. Use it for the class's own questions."
            ),
            "try": "Change one lever at a time, reset and compare with the same seed.",
            "question": "Which lever moves NPS most per unit of change? And profit?",
        },
    },
}


def t(lang: str, key: str, **fmt: object) -> str:
    """The text ``key`` in ``lang``, formatted with ``fmt``."""
    text = UI[lang][key]
    return text.format(**fmt) if fmt else text


def lesson_text(lang: str, lesson: str) -> dict[str, str]:
    """Title, explanation, what to try and the question of ``lesson`` in ``lang``."""
    return LESSONS[lang][lesson]


def number(lang: str, value: float, decimals: int | None = 0, sign: bool = False) -> str:
    """A number as the language writes it: ``1,234.5`` in English, ``1.234,5`` in Spanish; ``–`` for no value.

    ``decimals`` None writes three significant digits (a lever's value: ``0.45``, ``0,45``).
    """
    if value != value:  # NaN: nothing measured yet
        return "–"
    text = f"{value:{'+' if sign else ''}.3g}" if decimals is None else f"{value:{'+' if sign else ''},.{decimals}f}"
    if lang == "es":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
