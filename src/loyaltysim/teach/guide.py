"""The teacher's guide of every lesson, in Spanish and English: timing, what the class should find, what to discuss.

Shown in the app under each lesson ("Teacher guide"). The figures quoted are those of town 1 (the app's first town)
after a full year with the lesson's "try this" applied; `tests/test_teach.py` checks their direction and rough size
in several towns. The module is kept whole, over 400 lines should it grow: the two languages side by side.
"""

from __future__ import annotations

__all__ = ["GUIDE", "guide"]

GUIDE: dict[str, dict[str, dict[str, str]]] = {
    "es": {
        "pyramid": {
            "time": "15 min: 3 presentar, 7 simular y comparar, 5 debatir.",
            "answers": (
                "Con «Necesidad resuelta» a 0,95 el NPS pasa de unos −43 a +31 y los clientes activos de 82 a 123; "
                "con la empatía al máximo y la base rota casi nada cambia (NPS −41). La base de la pirámide manda: "
                "un trato cálido no compensa un problema sin resolver."
            ),
            "prompts": (
                "¿Qué parte de vuestro servicio es la «base» que falla? ¿Qué se está invirtiendo en el nivel de "
                "arriba mientras la base falla?"
            ),
        },
        "effort_vs_delight": {
            "time": "15 min: 3 presentar, 8 simular las dos variantes, 4 debatir.",
            "answers": (
                "Bajar el esfuerzo a 0,25 mantiene más clientes (de 118 a 124 en el pueblo 1) y llena la etapa "
                "Empatía (de 52 a 80). Quitar además el «wow» con poco esfuerzo baja el NPS (de 40 a 18): las dos "
                "visiones tienen parte de razón, y el modelo permite elegir cuánto pesa cada una."
            ),
            "prompts": (
                "¿Qué es más barato: quitar una espera o crear un momento memorable? ¿Quién se va y quién se queda "
                "en cada caso?"
            ),
        },
        "bad_news": {
            "time": "15 min: 2 presentar, 8 simular mirando la red, 5 debatir.",
            "answers": (
                "Con «Necesidad resuelta» a 0,7 los malos relatos del año pasan de 215 a 302 y los clientes de 95 a "
                "82 (NPS de −11 a −43); a 0,97 el boca a boca trabaja a favor: 120 clientes y NPS +19. En los "
                "cinco pueblos probados, la dirección es la misma. Las líneas rojas muestran por dónde viajan."
            ),
            "prompts": (
                "¿Por qué una mala noticia llega más lejos que una buena? ¿Dónde veis en la red los focos de "
                "detractores, y qué haríais con ellos?"
            ),
        },
        "personalization_empathy": {
            "time": "15 min: 3 presentar, 7 simular, 5 debatir.",
            "answers": (
                "Con personalización a 0,7, la etapa Personalización pasa de 11 a 78 personas y el NPS de −20 a +37; "
                "con la empatía también a 0,8, la mayoría llega a Empatía (98) y el beneficio del año sube de "
                "17.335 a 19.493 EUR."
            ),
            "prompts": (
                "Un ejemplo de personalización y uno de empatía de vuestro sector. ¿Puede haber empatía sin "
                "personalización?"
            ),
        },
        "retention_economics": {
            "time": "20 min: 3 presentar, 10 simular y comparar beneficios, 7 debatir.",
            "answers": (
                "Con mucho marketing hay más clientes al final (145 frente a 116), pero también muchos más perdidos "
                "(60 frente a 35) y menos beneficio acumulado (19.686 frente a 21.865 EUR) que cuidando el "
                "servicio: captar (90 EUR) cuesta cinco veces lo que mantener un año (18 EUR)."
            ),
            "prompts": (
                "¿Qué cuenta vuestro cuadro de mando: altas o clientes que se quedan? ¿Cuánto cuesta de verdad un "
                "cliente que se va en tres meses?"
            ),
        },
        "journey": {
            "time": "15 min: 3 presentar, 7 simular y seguir a una persona, 5 debatir.",
            "answers": (
                "Arreglar la línea telefónica (resuelta 0,93, esfuerzo 0,3) suma de 12 a 18 clientes y de 14 a 24 "
                "puntos de NPS según el pueblo, aunque sea un cuarto de las visitas. Siguiendo a una persona se "
                "ve caer su lealtad en las semanas en que su necesidad no se resuelve."
            ),
            "prompts": (
                "Dibujad el recorrido de vuestros clientes: ¿cuál es el eslabón débil? ¿Quién es su responsable en "
                "la empresa?"
            ),
        },
        "servqual": {
            "time": "15 min: 3 presentar, 7 simular mirando la tarjeta de la brecha, 5 debatir.",
            "answers": (
                "Con el servicio de partida la brecha ronda +0,02. Con empatía 0,9 y esfuerzo 0,2 salta a +0,15 las "
                "primeras semanas y baja a +0,05–0,08 al final del año, porque lo que esperan sube de 0,54 a 0,63: "
                "la sorpresa de hoy es la norma de mañana."
            ),
            "prompts": (
                "Si las expectativas alcanzan a la calidad, ¿para qué mejorar? ¿Qué pasaría si la empresa volviera "
                "al servicio de antes con las expectativas ya altas? (Probadlo.)"
            ),
        },
        "free_play": {
            "time": "Libre: 10 a 30 min, según las preguntas del grupo.",
            "answers": (
                "El pueblo de partida termina el año con unos 110 clientes y un NPS cercano a cero: hay margen en "
                "cada palanca. Pedid a cada grupo una hipótesis antes de mover nada, y que la compruebe con "
                "Reiniciar y la tabla de simulaciones."
            ),
            "prompts": "¿Qué palanca movería primero vuestra empresa, y qué esperáis que pase? ¿Lo confirma el modelo?",
        },
    },
    "en": {
        "pyramid": {
            "time": "15 min: 3 introduce, 7 run and compare, 5 discuss.",
            "answers": (
                "With 'Need met' at 0.95 NPS goes from about −43 to +31 and active customers from 82 to 123; with "
                "empathy at the top and the base broken almost nothing changes (NPS −41). The base of the pyramid "
                "rules: a warm tone does not make up for an unsolved problem."
            ),
            "prompts": (
                "Which part of your service is the 'base' that fails? What is being spent on the top level while "
                "the base fails?"
            ),
        },
        "effort_vs_delight": {
            "time": "15 min: 3 introduce, 8 run both variants, 4 discuss.",
            "answers": (
                "Lowering effort to 0.25 keeps more customers (118 to 124 in town 1) and fills the Empathy stage "
                "(52 to 80). Also removing the 'wow' with low effort lowers NPS (40 to 18): both views are partly "
                "right, and the model lets you choose how much each weighs."
            ),
            "prompts": (
                "Which is cheaper: removing a wait or creating a memorable moment? Who leaves and who stays in each "
                "case?"
            ),
        },
        "bad_news": {
            "time": "15 min: 2 introduce, 8 run watching the network, 5 discuss.",
            "answers": (
                "With 'Need met' at 0.7 the year's bad stories rise from 215 to 302 and customers fall from 95 to 82 "
                "(NPS −11 to −43); at 0.97 word of mouth works for the firm: 120 customers and NPS +19. In all five "
                "towns tried the direction is the same. The red lines show where bad stories travel."
            ),
            "prompts": (
                "Why does bad news travel further than good news? Where on the network do you see pockets of "
                "detractors, and what would you do about them?"
            ),
        },
        "personalization_empathy": {
            "time": "15 min: 3 introduce, 7 run, 5 discuss.",
            "answers": (
                "With personalization at 0.7 the Personalization stage grows from 11 to 78 people and NPS from −20 "
                "to +37; with empathy at 0.8 as well most reach Empathy (98) and the year's profit rises from "
                "17,335 to 19,493 EUR."
            ),
            "prompts": (
                "One example of personalization and one of empathy from your sector. Can there be empathy without "
                "personalization?"
            ),
        },
        "retention_economics": {
            "time": "20 min: 3 introduce, 10 run and compare profits, 7 discuss.",
            "answers": (
                "Heavy marketing ends the year with more customers (145 against 116) but far more lost (60 against "
                "35) and less cumulative profit (19,686 against 21,865 EUR) than caring for the service: winning a "
                "customer (90 EUR) costs five times keeping one for a year (18 EUR)."
            ),
            "prompts": (
                "What does your dashboard count: sign-ups or customers who stay? What does a customer who leaves "
                "after three months really cost?"
            ),
        },
        "journey": {
            "time": "15 min: 3 introduce, 7 run and follow one person, 5 discuss.",
            "answers": (
                "Fixing the phone line (need met 0.93, effort 0.3) adds 12 to 18 customers and 14 to 24 NPS points "
                "depending on the town, although it is a quarter of the visits. Following one person, their "
                "loyalty falls in the weeks their need is not met."
            ),
            "prompts": ("Draw your customers' journey: what is the weak link? Who owns it in the company?"),
        },
        "servqual": {
            "time": "15 min: 3 introduce, 7 run watching the gap card, 5 discuss.",
            "answers": (
                "With the starting service the gap is about +0.02. With empathy 0.9 and effort 0.2 it jumps to "
                "+0.15 in the first weeks and falls to +0.05–0.08 by the end of the year, because what customers "
                "expect rises from 0.54 to 0.63: today's surprise is tomorrow's norm."
            ),
            "prompts": (
                "If expectations catch up with quality, why improve? What would happen if the firm went back to the "
                "old service with expectations already high? (Try it.)"
            ),
        },
        "free_play": {
            "time": "Open: 10 to 30 min, following the group's questions.",
            "answers": (
                "The starting town ends the year with about 110 customers and an NPS near zero: every lever has "
                "room. Ask each group for a hypothesis before moving anything, and to check it with Reset and the "
                "runs table."
            ),
            "prompts": "Which lever would your company move first, and what do you expect? Does the model agree?",
        },
    },
}
"""Per language and lesson: ``time`` (a plan of the minutes), ``answers`` (what the class should find), ``prompts``
(questions for the discussion)."""


def guide(lang: str, lesson: str) -> dict[str, str]:
    """The teacher's guide of ``lesson`` in ``lang``."""
    return GUIDE[lang][lesson]
