"""Word lists of bench/identity_data.py: given and family names, nicknames, streets, cities, phone plans, mail
providers, trades and legal forms per country (Germany, France, Italy, the UK)."""

from __future__ import annotations

from typing import Any


def _w(text: str) -> list[str]:
    return [t.replace("_", " ") for t in text.split()]


GIVEN: dict[str, tuple[list[str], list[str]]] = {
    "DE": (_w("Thomas Michael Andreas Stefan Peter Frank Markus Christian Klaus Wolfgang Jürgen Martin Hans Uwe "
              "Matthias Bernd Jörg Dieter Sebastian Tobias Florian Alexander Daniel Jan Lukas Jonas Felix "
              "Maximilian Paul Johannes Ralf Werner Günter Heinz Manfred Josef Anton"),
           _w("Sabine Petra Monika Susanne Claudia Andrea Birgit Ursula Stefanie Nicole Katharina Julia Anna Laura "
              "Lena Sarah Christina Heike Karin Renate Gabriele Brigitte Anja Jutta Sandra Melanie Lisa Marie "
              "Sophie Jana Ingrid Elke")),
    "FR": (_w("Jean Pierre Michel André Philippe Alain Jacques Bernard Christophe Nicolas François Laurent Éric "
              "Stéphane Patrick Julien Sébastien Thomas Olivier Daniel David Frédéric Antoine Hugo Lucas Louis "
              "Mathieu Vincent Guillaume Romain"),
           _w("Marie Nathalie Isabelle Sylvie Catherine Françoise Martine Christine Monique Valérie Sophie Sandrine "
              "Céline Julie Aurélie Camille Émilie Chloé Léa Manon Claire Anne Hélène Élodie Caroline Stéphanie "
              "Pauline Laura Inès Juliette")),
    "IT": (_w("Giuseppe Giovanni Antonio Mario Luigi Francesco Angelo Vincenzo Pietro Salvatore Carlo Franco "
              "Domenico Bruno Paolo Michele Giorgio Aldo Sergio Luciano Marco Andrea Alessandro Matteo Lorenzo "
              "Davide Stefano Roberto Massimo Fabio"),
           _w("Maria Anna Giuseppina Rosa Angela Giovanna Teresa Lucia Carmela Caterina Francesca Antonella Paola "
              "Laura Giulia Chiara Sara Martina Elena Alessandra Silvia Valentina Federica Sofia Aurora Alice "
              "Giorgia Roberta Simona Barbara")),
    "GB": (_w("James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew "
              "Anthony Mark Paul Steven Andrew Kenneth Joshua George Oliver Harry Jack Jacob Charlie Oscar Henry "
              "Edward Alexander"),
           _w("Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Margaret Emily Olivia "
              "Amelia Isla Ava Sophie Grace Lily Chloe Charlotte Emma Hannah Rebecca Lucy Katherine Helen Rachel "
              "Laura Victoria")),
}
FAMILY: dict[str, list[str]] = {
    "DE": _w("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter "
             "Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner "
             "Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser "
             "Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger "
             "Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin "
             "Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf "
             "Schulte Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Voigt Sauer Arnold Wolff Pfeiffer"),
    "FR": _w("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel "
             "Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont Lambert Bonnet "
             "François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin "
             "Morin Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Masson Sanchez Gérard Nguyen "
             "Boyer Denis Lemaire Duval Joly Gautier Roger Roche Roy Noël Meyer Lucas Meunier Perez Marchand "
             "Dufour Blanchard Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez"),
    "IT": _w("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De_Luca "
             "Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso Ferrara "
             "Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola De_Santis D'Angelo "
             "Marchetti Parisi Villa Conte Ferraro Ferri Fabbri Bianco Marini Grasso Valentini Messina Sala "
             "De_Angelis Gatti Pellegrini Palumbo Sanna Farina Rizzi Monti Cattaneo Morelli Amato Silvestri Mazza "
             "Testa Grassi Pellegrino Carbone Giuliani Benedetti Barone Rossetti Caputo Montanari Guerra Palmieri"),
    "GB": _w("Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright "
             "Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper "
             "Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis "
             "Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw "
             "Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Wilkinson Foster Chapman "
             "Powell Webb Rogers Gray Mason Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight"),
}
NICKNAMES: dict[str, list[str]] = {
    "William": ["Bill", "Will"], "Robert": ["Bob", "Rob"], "James": ["Jim"], "Michael": ["Mike"], "Thomas": ["Tom"],
    "Richard": ["Rick", "Dick"], "Katherine": ["Kate", "Katie"], "Elizabeth": ["Liz", "Beth"], "Johannes": ["Hans"],
    "Margaret": ["Maggie", "Peggy"], "Giuseppe": ["Beppe", "Pino"], "Antonio": ["Toni"], "Christopher": ["Chris"],
    "Alexander": ["Alex"], "Andrew": ["Andy"], "Daniel": ["Dan", "Danny"], "Joseph": ["Joe"], "Edward": ["Ed", "Ted"],
    "Matthew": ["Matt"], "Katharina": ["Kathi"], "Susanne": ["Susi"], "Jennifer": ["Jenny"], "David": ["Dave"],
    "Francesco": ["Franco"], "Alessandro": ["Sandro"], "Gabriele": ["Gabi"], "Wolfgang": ["Wolf"], "Luigi": ["Gigi"],
}
CITIES: dict[str, list[tuple[str, str]]] = {  # city and the start of its postal codes
    country: [(c.replace("_", " "), code) for c, code in (item.split(":") for item in text.split())]
    for country, text in {
        "DE": "Berlin:10 Hamburg:22 München:80 Köln:50 Frankfurt_am_Main:60 Stuttgart:70 Düsseldorf:40 Leipzig:04 "
              "Dortmund:44 Essen:45 Bremen:28 Dresden:01 Hannover:30 Nürnberg:90 Duisburg:47 Wuppertal:42 "
              "Bielefeld:33 Bonn:53 Münster:48 Mannheim:68 Karlsruhe:76 Augsburg:86 Wiesbaden:65 Freiburg:79 Kiel:24",
        "FR": "Paris:75 Lyon:69 Marseille:13 Toulouse:31 Nice:06 Nantes:44 Strasbourg:67 Montpellier:34 Bordeaux:33 "
              "Lille:59 Rennes:35 Reims:51",
        "IT": "Roma:00 Milano:20 Napoli:80 Torino:10 Palermo:90 Genova:16 Bologna:40 Firenze:50 Bari:70 Verona:37 "
              "Venezia:30 Padova:35",
        "GB": "London:SW1A London:E1 London:N1 London:W2 London:SE1 Manchester:M1 Birmingham:B1 Leeds:LS1 Glasgow:G1 "
              "Bristol:BS1 Liverpool:L1 Edinburgh:EH1 Sheffield:S1 Cardiff:CF1",
    }.items()
}
STREETS: dict[str, list[str]] = {
    "DE": _w("Hauptstraße Bahnhofstraße Gartenstraße Schulstraße Dorfstraße Lindenstraße Bergstraße Kirchstraße "
             "Waldstraße Ringstraße Goethestraße Schillerstraße Mühlenweg Birkenweg Rosenweg Marktplatz "
             "Friedrichstraße Lessingstraße Feldstraße Wiesenstraße Kirchplatz Am_Markt Poststraße Mozartstraße "
             "Industriestraße Parkstraße Sonnenstraße Bismarckstraße Beethovenstraße Talstraße"),
    "FR": _w("rue_de_la_Paix avenue_Victor_Hugo boulevard_Voltaire rue_Nationale rue_de_la_République "
             "place_de_la_Gare chemin_des_Vignes rue_Pasteur rue_Victor_Hugo avenue_Jean_Jaurès rue_de_l'Église "
             "rue_du_Moulin rue_des_Écoles avenue_de_la_Gare rue_Jean_Moulin boulevard_Gambetta rue_Gambetta "
             "place_de_l'Église rue_du_Château rue_de_la_Mairie"),
    "IT": _w("Via_Roma Via_Garibaldi Corso_Italia Piazza_Duomo Viale_Mazzini Via_Dante Via_Verdi Via_Cavour "
             "Via_Mazzini Via_Marconi Corso_Vittorio_Emanuele Via_Matteotti Via_Vittorio_Veneto Piazza_Garibaldi "
             "Via_XX_Settembre Via_Manzoni Via_Nazionale Viale_Europa Via_San_Francesco Via_Kennedy"),
    "GB": _w("High_Street Station_Road Church_Lane Victoria_Road Park_Avenue Queen's_Road Mill_Lane Green_Lane "
             "Manor_Road King_Street Church_Street London_Road Main_Street Park_Road The_Crescent Albert_Road "
             "Springfield_Road New_Street York_Road George_Street"),
}
ABBREVIATIONS: dict[str, list[str]] = {
    "straße": ["straße", "strasse", "str.", "str"], "platz": ["platz", "pl."], "avenue": ["avenue", "av.", "ave"],
    "boulevard": ["boulevard", "bd", "bd."], "Piazza": ["Piazza", "P.zza"], "Viale": ["Viale", "V.le"],
    "Corso": ["Corso", "C.so"], "Street": ["Street", "St", "St."], "Road": ["Road", "Rd", "Rd."],
    "Avenue": ["Avenue", "Ave"], "Lane": ["Lane", "Ln"],
}
PHONE: dict[str, dict[str, Any]] = {
    "DE": {"code": "49", "trunk": "0", "length": (10, 11), "landline": _w("30 40 89 221 69 711 211 341 231 511"),
           "mobile": _w("151 152 160 170 171 172 175 176 177 178 179")},
    "FR": {"code": "33", "trunk": "0", "length": (9, 9), "landline": _w("1 2 3 4 5"), "mobile": _w("6 7")},
    "IT": {"code": "39", "trunk": "", "length": (9, 10), "landline": _w("06 02 081 011 091 010 051 055"),
           "mobile": _w("320 328 333 338 340 347 348 349 366 380")},
    "GB": {"code": "44", "trunk": "0", "length": (10, 10), "landline": _w("20 161 121 113 141 117 151 131 114"),
           "mobile": _w("7700 7711 7723 7800 7812 7900 7911 7950")},
}
MAIL_PROVIDERS = {"DE": _w("gmx.de web.de t-online.de gmail.com"), "FR": _w("orange.fr free.fr gmail.com laposte.net"),
                  "IT": _w("libero.it gmail.com virgilio.it tiscali.it"),
                  "GB": _w("gmail.com outlook.com btinternet.com yahoo.co.uk")}
TRADES = {"DE": _w("Bau Transporte Elektro Maschinenbau Handel Logistik Metallbau Holzbau Haustechnik Autohaus "
                   "Druckerei Immobilien Software Consulting Feinkost Möbel"),
          "FR": _w("Transports Bâtiment Électricité Menuiserie Distribution Logistique Conseil Informatique "
                   "Boulangerie Immobilier Garage Plomberie"),
          "IT": _w("Costruzioni Trasporti Impianti Meccanica Logistica Alimentari Arredamenti Consulting "
                   "Informatica Tessile Immobiliare Edilizia"),
          "GB": _w("Builders Logistics Electrical Engineering Trading Consulting Plumbing Motors Joinery Software "
                   "Catering Property")}
ORG_WORDS = _w("Nord Süd Euro Global Alpha Adler Sonnen Atlas Delta Phoenix Orion Meridian Nova Vista Apex Centro "
               "Union Royal Pioneer Summit")
LEGAL_FORMS: dict[str, list[list[str]]] = {
    "DE": [["GmbH", "G.m.b.H.", "Gmbh", "GMBH"], ["AG"], ["GmbH & Co. KG", "GmbH & Co KG"], ["KG"], ["e.K."]],
    "FR": [["SARL", "S.A.R.L.", "Sàrl"], ["SAS", "S.A.S."], ["SA", "S.A."]],
    "IT": [["S.r.l.", "SRL", "Srl"], ["S.p.A.", "SPA", "SpA"], ["S.n.c.", "SNC"]],
    "GB": [["Ltd", "Ltd.", "Limited", "LTD"], ["PLC", "plc"], ["LLP"]],
}
