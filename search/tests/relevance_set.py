"""A labelled relevance set: memories, and for each a paraphrased query that shares no word
with it (beyond a few function words), so only meaning can find it."""

MEMORIES = {
    "bread": "Baked sourdough loaf this morning; starter fed overnight, crust came out crackly.",
    "dentist": "Dental checkup booked Thursday 3pm, ask about wisdom tooth pain.",
    "bike": "Bicycle chain keeps slipping off the rear cog; probably needs new derailleur cable.",
    "tax": "File income tax return before April deadline, gather receipts and payslips.",
    "python": "Python asyncio gather runs coroutines concurrently; remember to await results.",
    "garden": "Planted tomato seedlings and basil along the sunny fence in the backyard.",
    "flight": "Flight to Lisbon departs 7:40 from terminal 2, check in online 24h before.",
    "running": "Ran 10 kilometres along the river in 52 minutes, knees felt fine.",
    "birthday": "Mum turns sixty in May, plan surprise party with cousins.",
    "car": "Car insurance renewal quote arrived, premium went up 15 percent.",
    "book": "Finished reading Dune; desert politics and spice economics were fascinating.",
    "sleep": "Insomnia again, woke at 4am, try cutting caffeine after noon.",
    "guitar": "Practised barre chords on guitar for half an hour, F major still buzzes.",
    "postgres": "Postgres VACUUM reclaims dead tuples; autovacuum thresholds need tuning.",
    "cat": "Kitten needs vaccination shots next week at the vet clinic.",
    "laundry": "Washing machine leaking water from door seal, call repair service.",
    "recipe": "Grandma's lasagna recipe: béchamel, ragù simmered three hours, nutmeg.",
    "meeting": "Quarterly planning meeting moved to Monday; prepare roadmap slides.",
    "plant": "Monstera leaves turning yellow, overwatering likely, let soil dry out.",
    "movie": "Watched Spirited Away again, Studio Ghibli animation is breathtaking.",
}

QUERIES = {
    "bread": "homemade fermented wheat baking",
    "dentist": "appointment with my teeth doctor",
    "bike": "cycling gear trouble",
    "tax": "paying government revenue forms",
    "python": "concurrent programming coroutine library",
    "garden": "growing vegetables outdoors",
    "flight": "airplane trip to Portugal",
    "running": "jogging workout distance",
    "birthday": "celebration for my mother",
    "car": "vehicle coverage price increase",
    "book": "science fiction novel I just completed",
    "sleep": "trouble falling asleep at night",
    "guitar": "learning to play an instrument",
    "postgres": "database maintenance cleanup",
    "cat": "immunization for my pet",
    "laundry": "broken appliance for clothes",
    "recipe": "italian pasta dish my grandmother cooked",
    "meeting": "work session rescheduled",
    "plant": "houseplant dying",
    "movie": "japanese animated film",
}

FUNCTION_WORDS = {"a", "an", "the", "my", "to", "for", "of", "at", "in", "on", "with", "i", "and"}


def words(text: str) -> set[str]:
    import re

    return {w for w in re.findall(r"[a-zà-ÿ']+", text.lower())} - FUNCTION_WORDS
