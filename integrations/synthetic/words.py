"""Word lists the synthetic world is made of.

Company names are built from three disjoint families (compound words, adjective plus
noun, surnames) so that no two families can spell the same name key.
"""

from __future__ import annotations

# "North" + "field" → "Northfield". No root is "wind": "Northwind" is kept for the
# deliberate near-duplicates.
PREFIXES = (
    "North", "South", "East", "West", "Iron", "Silk", "Bright", "Clear", "High",
    "Deep", "Fair", "Sun", "Kings", "Moon", "Frost", "Storm", "Rain", "Snow",
    "Gold", "Copper", "Cedar", "Pine", "Elm", "Ash", "Birch", "Maple", "Willow",
    "Rose", "Lake", "River", "Sea", "Bay", "Cliff", "Glen", "Wild", "True",
    "Swift", "Bold", "Keen", "Prime", "Nova", "Vertex", "Apex", "Zen", "Terra",
    "Aero", "Blue", "Green",
)  # fmt: skip
ROOTS = (
    "bridge", "field", "gate", "stone", "point", "wave", "line", "path", "ridge",
    "brook", "well", "light", "forge", "works", "mark", "haven", "view", "water",
    "wood", "vale", "peak", "spring", "port", "ford", "way", "side", "star",
    "leaf", "shore", "rock", "hill", "land", "core", "sphere", "scape", "grove",
    "dale", "mont", "crest", "stream",
)  # fmt: skip
ADJECTIVES = (
    "Blue", "Red", "Silver", "Golden", "Black", "White", "Amber", "Scarlet",
    "Quiet", "Rapid", "Lucky", "Little", "Grand", "Brave", "Clever", "Noble",
    "Hidden", "Open", "Twin", "Royal",
)  # fmt: skip
NOUNS = (
    "Heron", "Fox", "Otter", "Falcon", "Badger", "Owl", "Lynx", "Bison", "Raven",
    "Salmon", "Oak", "Fern", "Thistle", "Juniper", "Lantern", "Anchor", "Compass",
    "Kettle", "Harbor", "Meadow", "Canyon", "Summit", "Orchard", "Mill", "Beacon",
    "Arrow", "Key", "Sparrow", "Pelican", "Tortoise",
)  # fmt: skip
FOUNDERS = (
    "Hartley", "Okafor", "Lindqvist", "Moreau", "Castellano", "Nakamura", "Brennan",
    "Delacroix", "Abernathy", "Kowalski", "Whitaker", "Oyelaran", "Petrov", "Sato",
    "Mendoza", "Fitzgerald", "Haddad", "Novak", "Thornton", "Vasquez", "Iyer",
    "Bergström", "Adeyemi", "Kaur", "Rossi", "Chandler", "Müller", "Takahashi",
    "Oduya", "Lambert", "Gallagher", "Pereira", "Zhang", "Duarte", "Ferreira",
    "Kim", "Nguyen", "Schmidt", "Dubois", "Larsen",
)  # fmt: skip

# Descriptor → industry. The descriptor ends every generated company name.
DESCRIPTORS = {
    "Analytics": "Software", "Software": "Software", "Systems": "Software",
    "Labs": "Software", "Data": "Software", "Cloud": "Software",
    "Networks": "Telecommunications", "Digital": "Software", "AI": "Software",
    "Security": "Software", "Logistics": "Transportation & Logistics",
    "Freight": "Transportation & Logistics", "Shipping": "Transportation & Logistics",
    "Transport": "Transportation & Logistics", "Health": "Healthcare",
    "Medical": "Healthcare", "Biosciences": "Life Sciences",
    "Therapeutics": "Life Sciences", "Pharma": "Life Sciences", "Clinics": "Healthcare",
    "Manufacturing": "Manufacturing", "Industries": "Manufacturing",
    "Robotics": "Manufacturing", "Materials": "Manufacturing",
    "Machine Works": "Manufacturing", "Fabrication": "Manufacturing",
    "Capital": "Financial Services", "Financial": "Financial Services",
    "Insurance": "Insurance", "Advisors": "Financial Services", "Retail": "Retail",
    "Outfitters": "Retail", "Goods": "Consumer Goods", "Market": "Retail",
    "Supply": "Wholesale", "Foods": "Food & Beverage", "Farms": "Agriculture",
    "Brewing": "Food & Beverage", "Provisions": "Food & Beverage",
    "Kitchens": "Food & Beverage", "Energy": "Energy", "Power": "Energy",
    "Solar": "Energy", "Utilities": "Energy", "Construction": "Construction",
    "Builders": "Construction", "Properties": "Real Estate", "Realty": "Real Estate",
    "Media": "Media", "Studios": "Media", "Publishing": "Media",
    "Marketing": "Marketing & Advertising", "Learning": "Education",
    "Academy": "Education", "Hotels": "Hospitality", "Travel": "Hospitality",
    "Telecom": "Telecommunications", "Wireless": "Telecommunications",
    "Consulting": "Professional Services", "Partners": "Professional Services",
}  # fmt: skip
LEGAL_ENDINGS = ("", "", "", "", " Inc.", " LLC", " Ltd", " Group", " Co.", " Corp")

TLDS = (".com", ".com", ".com", ".com", ".io", ".co", ".net", ".ai")

LOCATIONS = (
    ("New York, NY, US", "America/New_York"), ("Boston, MA, US", "America/New_York"),
    ("Atlanta, GA, US", "America/New_York"), ("Miami, FL, US", "America/New_York"),
    ("Chicago, IL, US", "America/Chicago"), ("Austin, TX, US", "America/Chicago"),
    ("Minneapolis, MN, US", "America/Chicago"), ("Denver, CO, US", "America/Denver"),
    ("Seattle, WA, US", "America/Los_Angeles"),
    ("San Francisco, CA, US", "America/Los_Angeles"),
    ("Los Angeles, CA, US", "America/Los_Angeles"),
    ("Toronto, ON, CA", "America/Toronto"), ("London, GB", "Europe/London"),
    ("Berlin, DE", "Europe/Berlin"), ("Amsterdam, NL", "Europe/Amsterdam"),
    ("Paris, FR", "Europe/Paris"), ("Stockholm, SE", "Europe/Stockholm"),
    ("São Paulo, BR", "America/Sao_Paulo"), ("Sydney, AU", "Australia/Sydney"),
    ("Singapore, SG", "Asia/Singapore"),
)  # fmt: skip

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofia", "Lucas", "Mia",
    "Ethan", "Amara", "Kenji", "Priya", "Arjun", "Chloé", "Léa", "Jonas", "Freya",
    "Aisha", "Omar", "Ingrid", "Lars", "Zoë", "Yusuf", "Mei", "Wei", "Hana",
    "Diego", "Camila", "Isabel", "Tomás", "Nadia", "Elena", "Marco", "Giulia",
    "Fatima", "Kwame", "Adaeze", "Siobhán", "Declan", "Rachel", "Daniel", "Grace",
    "Henry", "Julia", "Victor", "Nora", "Samir", "Leila", "Hugo", "Anika", "Ravi",
    "Chen", "Yuki", "Björn", "Maja", "Paulo", "Beatriz", "Connor", "Erin",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Martinez", "Lee", "Patel", "Kim", "Nguyen",
    "Brown", "Davis", "Wilson", "Anderson", "Thomas", "Moore", "Jackson", "White",
    "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell",
    "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards",
    "Collins", "Stewart", "Morris", "Rogers", "Reed", "Cook", "Morgan", "Bell",
    "Murphy", "Bailey", "Rivera", "Cooper", "Richardson", "Cox", "Howard", "Ward",
    "Torres", "Peterson", "Gray", "Ramirez", "James", "O'Brien", "Nakamura",
    "Müller", "Dubois", "Rossi", "Silva", "Kowalski", "Andersson", "Okoye", "Singh",
)  # fmt: skip

# Our own sales org. "Alex" and "Dana" are kept for the demo rep and manager.
REP_FIRST_NAMES = (
    "Jordan", "Taylor", "Casey", "Riley", "Morgan", "Jamie", "Avery", "Quinn",
    "Peyton", "Reese", "Skyler", "Rowan", "Hayden", "Emerson", "Finley", "Parker",
    "Sage", "Blake", "Drew", "Cameron", "Logan", "Harper", "Kendall", "Shawn",
    "Robin", "Leslie", "Marley", "Devon", "Elliot", "Frankie", "Jesse", "Kai",
    "Lane", "Micah", "Noel", "Remy", "Sasha", "Toby", "Wren", "Ari",
)  # fmt: skip
REP_LAST_NAMES = (
    "Abbott", "Barker", "Caldwell", "Dalton", "Ellison", "Fleming", "Garrison",
    "Holloway", "Ingram", "Jennings", "Kessler", "Lawson", "Mercer", "Nolan",
    "Osborne", "Prescott", "Quintero", "Ramsey", "Sheridan", "Tate", "Underwood",
    "Vaughn", "Whitman", "Yates", "Zimmer", "Ashford", "Bishop", "Crane", "Dorsey",
    "Emery", "Forbes", "Gentry", "Hale", "Irwin", "Jarvis", "Keane", "Langley",
    "Monroe", "Navarro", "Ortega",
)  # fmt: skip

TITLES = {
    "c_level": ("CEO", "CFO", "COO", "CTO", "Chief Revenue Officer", "CIO"),
    "vp": ("VP of Sales", "VP of Operations", "VP of Engineering", "VP of Finance",
           "VP of Customer Success", "VP of Marketing"),
    "director": ("Director of IT", "Director of Revenue Operations",
                 "Director of Procurement", "Director of Analytics",
                 "Director of Sales Enablement", "Director of Engineering"),
    "manager": ("Sales Operations Manager", "IT Manager", "Project Manager",
                "Customer Success Manager", "Data Analyst", "Account Manager",
                "Procurement Specialist", "Solutions Engineer", "Office Manager"),
}  # fmt: skip
