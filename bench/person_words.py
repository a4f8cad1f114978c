"""Word lists for the independent synthetic-person generator (:mod:`bench.person_corrupt`).

Per country (DE, FR, IT, GB, NL, ES, US): common given names by sex and common family names, each list in
descending order of frequency (the generator weights them by rank, so ``Müller``, ``Martin``, ``Rossi`` or
``Smith`` are frequent), morphemes that build the long tail of rarer family names, cities with a population
weight, a postal-code range (or GB outward codes) and a telephone area code, street names, mobile prefixes,
e-mail domains; plus a nickname table and the QWERTY keyboard layout.
"""

from __future__ import annotations

from typing import NamedTuple


class City(NamedTuple):
    name: str
    weight: float  # population, millions (relative)
    postal: str  # "lo-hi" for numeric codes (NL: 4 digits + 2 letters), "A,B,C" outward codes for GB
    area: str  # telephone area code without the trunk prefix (IT keeps its leading 0)


COUNTRIES: dict[str, float] = {"DE": 0.28, "FR": 0.15, "IT": 0.12, "GB": 0.15, "NL": 0.08, "ES": 0.10, "US": 0.12}

COUNTRY_NAMES: dict[str, str] = {"DE": "Germany", "FR": "France", "IT": "Italy", "GB": "United Kingdom",
                                 "NL": "Netherlands", "ES": "Spain", "US": "United States"}
DIAL: dict[str, str] = {"DE": "49", "FR": "33", "IT": "39", "GB": "44", "NL": "31", "ES": "34", "US": "1"}
NSN_LENGTH: dict[str, int] = {"DE": 11, "FR": 9, "IT": 10, "GB": 10, "NL": 9, "ES": 9, "US": 10}
MOBILE: dict[str, tuple[str, ...]] = {
    "DE": ("151", "152", "160", "170", "171", "172", "176"), "FR": ("6", "7"), "IT": ("320", "333", "347", "348"),
    "GB": ("7700", "7911", "7802", "7970"), "NL": ("6",), "ES": ("6",), "US": (),
}

MALE: dict[str, tuple[str, ...]] = {
    "DE": ("Thomas", "Michael", "Andreas", "Stefan", "Christian", "Peter", "Wolfgang", "Klaus", "Jürgen", "Frank",
           "Markus", "Alexander", "Daniel", "Tobias", "Matthias", "Sebastian", "Jan", "Uwe", "Dieter", "Günter",
           "Lukas", "Felix", "Maximilian", "Johannes", "Florian", "Philipp", "Heinz", "Manfred", "Ralf", "Dirk"),
    "FR": ("Jean", "Pierre", "Michel", "André", "Philippe", "Nicolas", "Alain", "Jacques", "Bernard", "Christophe",
           "François", "Laurent", "Éric", "Stéphane", "Julien", "Thomas", "Sébastien", "David", "Frédéric",
           "Olivier", "Patrick", "Daniel", "Luc", "Antoine", "Mathieu"),
    "IT": ("Giuseppe", "Giovanni", "Antonio", "Mario", "Luigi", "Francesco", "Angelo", "Vincenzo", "Pietro",
           "Salvatore", "Carlo", "Franco", "Domenico", "Bruno", "Paolo", "Michele", "Giorgio", "Marco", "Alessandro",
           "Luca", "Andrea", "Stefano", "Roberto", "Matteo", "Lorenzo"),
    "GB": ("David", "John", "Paul", "Mark", "James", "Andrew", "Michael", "Peter", "Robert", "Richard", "Stephen",
           "William", "Christopher", "Thomas", "Daniel", "Matthew", "George", "Oliver", "Harry", "Jack", "Charles",
           "Edward", "Anthony", "Ian", "Gary"),
    "NL": ("Jan", "Johannes", "Cornelis", "Hendrik", "Willem", "Pieter", "Gerrit", "Jacobus", "Dirk", "Adrianus",
           "Daan", "Sem", "Lucas", "Bram", "Thijs", "Ruben", "Jeroen", "Bas", "Niels", "Maarten"),
    "ES": ("Antonio", "José", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel", "José Luis", "Carlos",
           "Jesús", "Alejandro", "Miguel", "José Antonio", "Rafael", "Pedro", "Ángel", "Pablo", "Sergio", "Fernando",
           "Jorge", "Luis", "Alberto", "Álvaro", "Francisco Javier"),
    "US": ("James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas", "Christopher",
           "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul", "Andrew", "Joshua",
           "Kenneth", "Kevin", "Brian", "George", "Timothy"),
}
FEMALE: dict[str, tuple[str, ...]] = {
    "DE": ("Sabine", "Susanne", "Petra", "Claudia", "Andrea", "Monika", "Katharina", "Julia", "Anna", "Stefanie",
           "Birgit", "Nicole", "Christina", "Sandra", "Ursula", "Renate", "Karin", "Heike", "Laura", "Lena", "Sarah",
           "Lisa", "Maria", "Elisabeth", "Gabriele", "Martina", "Jana", "Melanie", "Ingrid", "Anja"),
    "FR": ("Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Martine", "Christine", "Monique",
           "Valérie", "Sandrine", "Sophie", "Céline", "Julie", "Camille", "Aurélie", "Émilie", "Anne", "Nicole",
           "Chantal", "Hélène", "Claire", "Léa", "Manon", "Chloé"),
    "IT": ("Maria", "Anna", "Giuseppina", "Rosa", "Angela", "Giovanna", "Teresa", "Lucia", "Carmela", "Caterina",
           "Francesca", "Anna Maria", "Antonietta", "Carla", "Elena", "Concetta", "Rita", "Margherita", "Paola",
           "Laura", "Giulia", "Chiara", "Sara", "Valentina", "Federica"),
    "GB": ("Susan", "Sarah", "Margaret", "Elizabeth", "Patricia", "Helen", "Karen", "Jennifer", "Emma", "Catherine",
           "Claire", "Rachel", "Olivia", "Amelia", "Emily", "Jessica", "Charlotte", "Victoria", "Rebecca", "Nicola",
           "Joanne", "Deborah", "Lucy", "Sophie", "Hannah"),
    "NL": ("Maria", "Johanna", "Anna", "Cornelia", "Elisabeth", "Wilhelmina", "Hendrika", "Emma", "Sophie", "Julia",
           "Sanne", "Lotte", "Anouk", "Femke", "Eva", "Fleur", "Ingrid", "Marieke", "Linda", "Petra"),
    "ES": ("María Carmen", "María", "Carmen", "Ana María", "Laura", "María Pilar", "Josefa", "Isabel", "Lucía",
           "Cristina", "Marta", "Elena", "Sara", "Paula", "Raquel", "Rosa", "Pilar", "Dolores", "Teresa", "Mercedes",
           "Sofía", "Julia", "Beatriz", "Silvia", "María Dolores"),
    "US": ("Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
           "Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley", "Kimberly", "Emily", "Donna", "Michelle", "Carol",
           "Amanda", "Dorothy", "Melissa", "Deborah"),
}
FAMILY: dict[str, tuple[str, ...]] = {
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
           "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
           "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
           "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
           "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Vogel"),
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
           "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
           "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand",
           "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas"),
    "IT": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
           "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
           "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone",
           "Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo",
           "Marchetti"),
    "GB": ("Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
           "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
           "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
           "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen", "O'Brien", "McDonald"),
    "NL": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
           "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
           "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs",
           "de Haan", "Vermeulen"),
    "ES": ("García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín",
           "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez",
           "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina"),
    "US": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
           "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
           "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
           "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores"),
}

#: (stems, endings) that build the rarer family names of the long tail (``Steinhuber``, ``Bellucci``)
RARE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "DE": (("Stein", "Berg", "Wald", "Hof", "Brand", "Eich", "Lind", "Rosen", "Kirch", "Feld", "Acker", "Bach",
            "Kessel", "Neu", "Gross", "Hart", "Sommer", "Winter", "Ober", "Lauter", "Dorn", "Frey", "Ross", "Kamm"),
           ("er", "mann", "bauer", "berger", "huber", "meier", "hofer", "ner", "ler", "feld", "bach", "dorfer",
            "inger", "ke", "ert", "hausen", "wald", "gruber")),
    "FR": (("Bou", "Char", "Mar", "Lau", "Per", "Fon", "Ver", "Ca", "Ri", "Gui", "Bel", "Cha", "Mont", "Beau", "Gau",
            "Ro", "Thi", "Bar"),
           ("chard", "rier", "teau", "ret", "llon", "quet", "lier", "vin", "chet", "rand", "ssier", "geot", "det",
            "nier", "zet", "baud")),
    "IT": (("Fer", "Bel", "Cap", "Mar", "Sal", "Pao", "Ros", "Gal", "Ven", "Tor", "Ber", "Cas", "Fio", "Lan", "Mon",
            "Pel", "Zan", "Tes"),
           ("lini", "etti", "ucci", "aro", "elli", "ino", "ato", "one", "azzi", "otti", "ari", "esi", "acci", "ini")),
    "GB": (("Ash", "Brad", "Cald", "Fair", "Hol", "Mar", "Pen", "Rad", "Stan", "Thorn", "Wes", "Whit", "Black",
            "Brook", "Hay", "Mid", "Cran", "Gold"),
           ("ford", "ley", "ton", "wood", "well", "field", "worth", "by", "ham", "shaw", "more", "wick", "dale",
            "ridge")),
    "NL": (("Berg", "Hoek", "Velde", "Beek", "Bosch", "Kamp", "Broek", "Molen", "Water", "Dam", "Hout", "Wijk",
            "Veen", "Sluis", "Horst", "Heuvel"),
           ("", "man", "er", "ink", "stra", "ma", "s", "hof")),
    "ES": (("Cas", "Vill", "Fuen", "Mon", "Pe", "Ri", "Sal", "Val", "Can", "Quin", "Bar", "Es", "Ce", "Ar", "Ol",
            "Lo"),
           ("tillo", "alba", "tes", "tero", "ñas", "bera", "azar", "verde", "dero", "tana", "rrano", "cobar", "rezo",
            "ranz")),
    "US": (("Kowal", "Novak", "Ander", "Fitz", "Mac", "Ship", "Wal", "Hen", "Good", "Mont", "Nich", "Stew", "Rich",
            "Sul", "Bren", "Kel"),
           ("ski", "son", "gerald", "ley", "man", "ton", "ard", "ols", "ins", "ery", "livan", "nan", "ly", "berg")),
}
NL_PARTICLES = ("van ", "de ", "van der ", "van de ", "", "", "")

CITIES: dict[str, tuple[City, ...]] = {
    "DE": (City("Berlin", 3.6, "10115-14199", "30"), City("Hamburg", 1.8, "20095-22769", "40"),
           City("München", 1.5, "80331-81929", "89"), City("Köln", 1.1, "50667-51149", "221"),
           City("Frankfurt am Main", 0.75, "60306-60599", "69"), City("Stuttgart", 0.63, "70173-70629", "711"),
           City("Düsseldorf", 0.62, "40210-40629", "211"), City("Leipzig", 0.6, "04103-04357", "341"),
           City("Dortmund", 0.59, "44135-44388", "231"), City("Essen", 0.58, "45127-45359", "201"),
           City("Bremen", 0.57, "28195-28779", "421"), City("Dresden", 0.56, "01067-01328", "351"),
           City("Hannover", 0.54, "30159-30669", "511"), City("Nürnberg", 0.52, "90402-90491", "911"),
           City("Münster", 0.31, "48143-48167", "251"), City("Augsburg", 0.3, "86150-86199", "821"),
           City("Freiburg im Breisgau", 0.23, "79098-79117", "761"), City("Göttingen", 0.12, "37073-37085", "551"),
           City("Rosenheim", 0.06, "83022-83026", "8031"), City("Wetzlar", 0.05, "35576-35586", "6441")),
    "FR": (City("Paris", 2.1, "75001-75020", "1"), City("Marseille", 0.87, "13001-13016", "4"),
           City("Lyon", 0.52, "69001-69009", "4"), City("Toulouse", 0.49, "31000-31500", "5"),
           City("Nice", 0.34, "06000-06300", "4"), City("Nantes", 0.32, "44000-44300", "2"),
           City("Strasbourg", 0.29, "67000-67200", "3"), City("Montpellier", 0.29, "34000-34090", "4"),
           City("Bordeaux", 0.26, "33000-33800", "5"), City("Lille", 0.23, "59000-59800", "3"),
           City("Rennes", 0.22, "35000-35700", "2"), City("Saint-Étienne", 0.17, "42000-42100", "4")),
    "IT": (City("Roma", 2.8, "00118-00199", "06"), City("Milano", 1.4, "20121-20162", "02"),
           City("Napoli", 0.92, "80121-80147", "081"), City("Torino", 0.85, "10121-10156", "011"),
           City("Palermo", 0.63, "90121-90151", "091"), City("Genova", 0.56, "16121-16167", "010"),
           City("Bologna", 0.39, "40121-40141", "051"), City("Firenze", 0.37, "50121-50145", "055"),
           City("Bari", 0.31, "70121-70132", "080"), City("Catania", 0.3, "95121-95131", "095"),
           City("Verona", 0.26, "37121-37142", "045"), City("Padova", 0.21, "35121-35143", "049")),
    "GB": (City("London", 8.9, "SW,SE,N,E,W,NW,EC,WC", "20"), City("Birmingham", 1.1, "B", "121"),
           City("Manchester", 0.55, "M", "161"), City("Leeds", 0.79, "LS", "113"), City("Glasgow", 0.63, "G", "141"),
           City("Liverpool", 0.49, "L", "151"), City("Bristol", 0.46, "BS", "117"),
           City("Sheffield", 0.58, "S", "114"), City("Edinburgh", 0.52, "EH", "131"),
           City("Cardiff", 0.36, "CF", "29"), City("Newcastle upon Tyne", 0.3, "NE", "191"),
           City("Nottingham", 0.32, "NG", "115")),
    "NL": (City("Amsterdam", 0.87, "1011-1109", "20"), City("Rotterdam", 0.65, "3011-3089", "10"),
           City("Den Haag", 0.55, "2491-2597", "70"), City("Utrecht", 0.36, "3511-3585", "30"),
           City("Eindhoven", 0.23, "5611-5658", "40"), City("Groningen", 0.23, "9711-9747", "50"),
           City("Tilburg", 0.22, "5011-5049", "13"), City("Almere", 0.21, "1311-1363", "36"),
           City("Breda", 0.18, "4811-4839", "76"), City("Nijmegen", 0.18, "6511-6546", "24")),
    "ES": (City("Madrid", 3.3, "28001-28055", "91"), City("Barcelona", 1.6, "08001-08042", "93"),
           City("Valencia", 0.79, "46001-46026", "96"), City("Sevilla", 0.69, "41001-41020", "95"),
           City("Zaragoza", 0.67, "50001-50021", "976"), City("Málaga", 0.58, "29001-29018", "952"),
           City("Murcia", 0.45, "30001-30012", "968"), City("Palma", 0.42, "07001-07015", "971"),
           City("Bilbao", 0.35, "48001-48015", "94"), City("Alicante", 0.34, "03001-03016", "96")),
    "US": (City("New York", 8.3, "10001-10292", "212"), City("Los Angeles", 3.9, "90001-90089", "213"),
           City("Chicago", 2.7, "60601-60661", "312"), City("Houston", 2.3, "77001-77099", "713"),
           City("Phoenix", 1.6, "85001-85054", "602"), City("Philadelphia", 1.6, "19102-19154", "215"),
           City("San Antonio", 1.5, "78201-78266", "210"), City("San Diego", 1.4, "92101-92199", "619"),
           City("Dallas", 1.3, "75201-75398", "214"), City("Seattle", 0.74, "98101-98199", "206"),
           City("Boston", 0.69, "02108-02137", "617"), City("Springfield", 0.11, "62701-62711", "217")),
}

STREETS: dict[str, tuple[str, ...]] = {
    "DE": ("Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße",
           "Birkenweg", "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße",
           "Goethestraße", "Am Sportplatz", "Friedrich-Ebert-Straße", "Mozartstraße"),
    "FR": ("rue de la Paix", "rue Victor Hugo", "avenue Jean Jaurès", "rue de la République", "rue Pasteur",
           "boulevard Voltaire", "rue du Moulin", "place de l'Église", "rue des Écoles", "rue de la Gare",
           "avenue de la Liberté", "rue Jules Ferry"),
    "IT": ("Via Roma", "Via Garibaldi", "Via Mazzini", "Via Cavour", "Via Dante Alighieri", "Via Verdi",
           "Corso Italia", "Via Marconi", "Viale Europa", "Via della Repubblica", "Piazza della Libertà",
           "Via San Francesco"),
    "GB": ("High Street", "Station Road", "Main Street", "Park Road", "Church Road", "London Road", "Victoria Road",
           "Green Lane", "Manor Road", "Church Street", "Kings Road", "Queens Road", "The Avenue"),
    "NL": ("Kerkstraat", "Schoolstraat", "Molenstraat", "Dorpsstraat", "Stationsstraat", "Julianastraat",
           "Nieuwstraat", "Wilhelminastraat", "Beatrixstraat", "Kastanjelaan", "Eikenlaan", "Parallelweg"),
    "ES": ("Calle Mayor", "Calle Real", "Calle de la Iglesia", "Plaza de España", "Calle Nueva", "Avenida de la Paz",
           "Calle del Sol", "Calle San Juan", "Avenida de Andalucía", "Calle Cervantes", "Paseo del Prado"),
    "US": ("Main Street", "Oak Street", "Park Avenue", "Maple Avenue", "Washington Street", "Elm Street",
           "Lake Street", "Cedar Lane", "Pine Street", "Second Street", "Hill Road", "Sunset Boulevard"),
}
#: how a source that abbreviates writes street words
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("straße", "str."), ("Straße", "Str."), ("straat", "str."), ("Street", "St"), ("Road", "Rd"),
    ("Avenue", "Ave"), ("Boulevard", "Blvd"), ("Lane", "Ln"), ("avenue", "av."), ("boulevard", "bd"),
    ("Calle", "C/"), ("Avenida", "Avda."), ("Viale", "V.le"), ("Piazza", "P.za"),
)

EMAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "DE": ("gmx.de", "web.de", "t-online.de", "gmail.com", "outlook.de", "yahoo.de"),
    "FR": ("orange.fr", "free.fr", "gmail.com", "laposte.net", "hotmail.fr", "sfr.fr"),
    "IT": ("libero.it", "gmail.com", "virgilio.it", "alice.it", "hotmail.it", "tiscali.it"),
    "GB": ("gmail.com", "btinternet.com", "hotmail.co.uk", "yahoo.co.uk", "sky.com", "outlook.com"),
    "NL": ("gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.nl", "live.nl", "xs4all.nl"),
    "ES": ("gmail.com", "hotmail.es", "yahoo.es", "telefonica.net", "outlook.es"),
    "US": ("gmail.com", "yahoo.com", "hotmail.com", "aol.com", "outlook.com", "comcast.net", "icloud.com"),
}

#: formal given name -> nicknames in common use
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy"), "Robert": ("Bob", "Rob", "Bobby"), "Richard": ("Rick", "Dick", "Rich"),
    "James": ("Jim", "Jimmy"), "John": ("Jack", "Johnny"), "Michael": ("Mike", "Mick"), "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris",), "Joseph": ("Joe",), "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",),
    "Anthony": ("Tony",), "Andrew": ("Andy", "Drew"), "Kenneth": ("Ken", "Kenny"), "Steven": ("Steve",),
    "Stephen": ("Steve",), "Edward": ("Ed", "Ted"), "Charles": ("Charlie", "Chuck"), "Timothy": ("Tim",),
    "Elizabeth": ("Liz", "Beth", "Betty"), "Margaret": ("Maggie", "Peggy"), "Patricia": ("Pat", "Patty"),
    "Jennifer": ("Jenny", "Jen"), "Rebecca": ("Becky",), "Victoria": ("Vicky",), "Deborah": ("Debbie",),
    "Katharina": ("Kathi", "Katja"), "Alexander": ("Alex",), "Maximilian": ("Max",), "Johannes": ("Hannes",),
    "Sebastian": ("Basti",), "Matthias": ("Matze",), "Christian": ("Chris",), "Stefanie": ("Steffi",),
    "Gabriele": ("Gabi",), "Christina": ("Tina",), "Elisabeth": ("Lisa", "Elli"), "Wolfgang": ("Wolf",),
    "Giuseppe": ("Peppe", "Beppe"), "Giovanni": ("Gianni",), "Francesco": ("Franco", "Checco"),
    "Salvatore": ("Totò",), "Antonio": ("Toni",), "Francisco": ("Paco", "Pancho"), "José": ("Pepe",),
    "Manuel": ("Manolo",), "Dolores": ("Lola",), "Josefa": ("Pepa",), "Johanna": ("Hanna",),
    "Cornelis": ("Kees",), "Hendrik": ("Henk",), "Jacobus": ("Koos",), "Willem": ("Wim",), "Pieter": ("Piet",),
    "Nicolas": ("Nico",), "Frédéric": ("Fred",), "Catherine": ("Cathy", "Kate"), "Susan": ("Sue", "Susie"),
    "Nicola": ("Nicky",),
}

QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")

#: OCR confusions (both directions are used)
OCR_PAIRS: tuple[tuple[str, str], ...] = (
    ("rn", "m"), ("0", "O"), ("l", "1"), ("cl", "d"), ("5", "S"), ("8", "B"), ("vv", "w"), ("li", "h"),
    ("I", "l"), ("e", "c"),
)
#: phonetic spelling variants (both directions are used)
PHONETIC_PAIRS: tuple[tuple[str, str], ...] = (
    ("ph", "f"), ("ie", "y"), ("ei", "ai"), ("ai", "ay"), ("tz", "z"), ("dt", "t"), ("mm", "m"), ("sch", "sh"),
    ("c", "k"), ("ck", "k"), ("th", "t"), ("ll", "l"), ("tt", "t"), ("y", "i"), ("v", "w"), ("qu", "k"),
    ("x", "ks"), ("ou", "u"),
)
#: umlaut and accent foldings, one way only (a clerk without the key drops the accent, never adds one)
FOLDINGS: tuple[tuple[str, str], ...] = (
    ("ü", "ue"), ("ö", "oe"), ("ä", "ae"), ("ß", "ss"), ("é", "e"), ("è", "e"), ("á", "a"), ("í", "i"),
    ("ó", "o"), ("ñ", "n"), ("ç", "c"), ("à", "a"), ("ì", "i"), ("ò", "o"),
)
