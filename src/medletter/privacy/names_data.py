"""Word lists for rule-based detection and for surrogates: common first names (by gender), surnames,
places, and capitalised German words that follow a name cue but are not names.

The lists are general (common names in Germany, Austria and Switzerland and frequent names of
immigrant families), not taken from any evaluation document.
"""

from __future__ import annotations


def _words(s: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w.replace("_", " ") for w in s.split() if w))


FEMALE_FIRST = _words("""
Anna Maria Ursula Monika Petra Elisabeth Sabine Renate Helga Karin Brigitte Ingrid Erika Andrea Gisela
Claudia Susanne Gabriele Christa Christine Hildegard Anja Stefanie Nicole Birgit Barbara Martina Heike
Ilse Gertrud Marianne Waltraud Ingeborg Angelika Julia Katharina Christina Sandra Daniela Tanja Doris
Bettina Lisa Laura Sarah Sara Lena Lea Leonie Hannah Hanna Emma Mia Sophie Sofia Marie Johanna Charlotte
Luise Louisa Clara Klara Amelie Emilia Lina Ella Greta Frieda Ida Mathilda Paula Pia Nele Jana Jasmin
Melanie Simone Silke Kerstin Manuela Karla Carla Carola Cornelia Diana Dagmar Edith Elke Eva Franziska
Gudrun Hannelore Heidi Helene Hedwig Irene Iris Irmgard Jutta Katrin Kathrin Lieselotte Liselotte Lydia
Margarete Margot Marlies Martha Nadine Nina Rita Rosemarie Ruth Sonja Silvia Sylvia Tatjana Ute Vera
Verena Veronika Veronica Yvonne Beate Bärbel Anita Annette Antje Astrid Beatrix Beatrice Britta Carmen
Elfriede Elena Emine Fatma Ayse Ayşe Zeynep Elif Merve Hatice Olga Natalia Natalja Irina Svetlana Swetlana
Tamara Marija Milena Jelena Ana Ivana Agnieszka Katarzyna Magdalena Joanna Ewa Alina Anastasia Aleksandra
Alexandra Adriana Alessandra Giulia Francesca Chiara Valentina Isabella Isabel Gerlinde Gerda Erna Hilde
    Manuela Inge Henriette Antonia Alma Janina Kristina Karoline Caroline
Josefine Marion Mechthild Rosa Rosalie Theresa Therese Ulrike Wilhelmine
Lotte Anke Annika Carina Christiane Elisa Emily Fabienne Helena Isabelle Jessica Jennifer Juliane Kira
Larissa Luisa Maja Marina Michaela Miriam Natascha Nora Patricia Rebecca Regina Ronja Saskia Selina
Stella Svenja Theresia Vanessa Viktoria Victoria Annemarie Agnes Adelheid Berta Bertha Dorothea Emilie
Erna Gertraud Hermine Irmtraud Käthe Lotte Magda Margret Margarethe Theodora Zita
""")

MALE_FIRST = _words("""
Peter Michael Thomas Andreas Wolfgang Klaus Jürgen Juergen Günter Guenter Stefan Stephan Christian Uwe
Werner Horst Frank Dieter Manfred Gerhard Hans Bernd Joachim Ralf Rolf Heinz Helmut Karl Carl Walter
Walther Martin Jörg Joerg Matthias Markus Marcus Alexander Sebastian Tobias Daniel Florian Jan Jens
Dirk Holger Thorsten Torsten Sven Lars Kai Heiko Oliver Patrick Philipp Philip Johannes Jonas Leon
Lukas Lucas Felix Maximilian Paul Ben Finn Elias Noah Luca Julian David Moritz Niklas Nico Tim Tom
Jakob Jacob Fabian Simon Benjamin Robert Richard Georg Friedrich Fritz Hermann Heinrich Otto Wilhelm
Ernst Erich Kurt Rudolf Alfred Albert Arnold Anton Bruno Erwin Franz Josef Joseph Ludwig Gottfried
Gustav Harald Herbert Hubert Jakob Konrad Konstantin Lothar Norbert Reinhard Reinhold Rainer Reiner
Siegfried Ulrich Volker Wilfried Willi Willy Winfried Egon Emil Eberhard Alois Bernhard 
Burkhard Detlef Detlev Eckhard Edgar Gerd Gert Günther Hartmut Helge Herwig Ingo Kaspar Leopold Lutz
Manuel Mario Marco Mehmet Mustafa Ahmed Ahmet Ali Hasan Hassan Hüseyin Ibrahim Murat Emre Yusuf Omar
Ivan Igor Dmitri Sergej Sergei Vladimir Wladimir Oleg Andrej Andrzej Piotr Pawel Tomasz Krzysztof
Milan Dragan Goran Zoran Nikola Stefan Marko Luka Giovanni Giuseppe Antonio Francesco Marco Pierre
Jean Louis Etienne Juan Carlos Jose José Pedro Miguel Georgios Dimitrios 
    Laurenz Lorenz Mike Harry Jonathan Thorben Waldemar Ahmet Ahmed Jonathan
Valentin Vincent Victor Viktor Benedikt Clemens Klemens Dominik Elmar Ewald Ferdinand Gregor Henning
Jannik Jannis Joshua Justus Leonard Linus Malte Marcel Marvin Mats Mirko Nils Niels Ole Pascal Rene
René Roland Rüdiger Sascha Timo Ulf Wolf Xaver Valentin Wendelin Albrecht August Balthasar Berthold
Christoph Eduard Emanuel Engelbert Ferdinand Gebhard Hieronymus Ignaz Ottokar Theodor Theo 
""")

SURNAMES = _words("""
Müller Mueller Schmidt Schneider Fischer Weber Meyer Meier Maier Mayer Wagner Becker Schulz Schulze
Hoffmann Hofmann Schäfer Schaefer Koch Bauer Richter Klein Wolf Schröder Schroeder Neumann Schwarz
Zimmermann Braun Krüger Krueger Hofmann Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann
Schmid Schulte Köhler Koehler Maier Herrmann König Koenig Walter Mayer Huber Kaiser Fuchs Peters Lang
Scholz Möller Moeller Weiß Weiss Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger
Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Boehm Winter Kraus Martin
Schumacher Krämer Kraemer Vogt Stein Jäger Jaeger Otto Sommer Groß Gross Seidel Heinrich Brandt Haas
Schreiber Graf Schulz Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer
Arnold Wolff Pfeiffer Gruber Brunner Pichler Moser Hofer Steiner Leitner Berger Fuchs Eder Fischer
Schwaiger Egger Wallner Reiter Mayr Auer Lechner Holzer Aigner Wimmer Ebner Koller Lehner Haas Wieser
Baumgartner Schmid Hauser Schneider Nussbaumer Gerber Kaufmann Brunner Baumann Frei Zimmermann Keller
Yilmaz Kaya Demir Şahin Sahin Çelik Celik Yildiz Yıldız Öztürk Ozturk Aydin Aydın Arslan Doğan Dogan
Kowalski Nowak Wiśniewski Lewandowski Kaminski Novak Horvat Kovač Kovac Petrović Petrovic Jovanović
    Nikolić Ivanov Petrov Smirnov Kuznetsov Rossi Russo Ferrari Esposito Bianchi Romano
Garcia García Fernández Lopez López Martinez Rodriguez Nguyen Tran Le Pham Kim Lee Park Chen Wang
    Ahrens Behrens Brinkmann Bruns Diekmann Dreyer Evers Frerichs Gerdes Hansen Hinrichs Jansen
    Jensen Johannsen Lüders Nielsen Petersen Thiele Wendt Westphal Baumgärtner
    Hein Heinz 
    Langer Lindner Marx Michel Ott Paul Rau Reinhardt
Sander Schade Schilling Schlegel Schmitz Schramm Seifert Stark Thomsen Ulrich Voss Voß Wagner Walther
    Wenzel Wiegand Wilke Witt Wolter Ziegler Zander Beyer Böttcher Büttner Dittrich Ernst Falk
Geiger Gerlach Göbel Hesse Heller Jahn Kern Kirchner Klose Kolb Kramer Kunz Kurz Lang Lutz Marquardt
Mertens Nagel Noack Pfeifer Rieger Ritter Sauer Schenk Schön Schütz Siebert Sommer Stahl Strauß
Vetter Vogt Weber Weis Wolff Wolter Zeller
""")

# Cities: large and mid-size places of Germany, Austria and Switzerland, and a few capitals.
CITIES = _words("""
Berlin Hamburg München Muenchen Köln Koeln Frankfurt Stuttgart Düsseldorf Duesseldorf Dortmund Essen
Leipzig Bremen Dresden Hannover Nürnberg Nuernberg Duisburg Bochum Wuppertal Bielefeld Bonn Münster
Karlsruhe Mannheim Augsburg Wiesbaden Gelsenkirchen Mönchengladbach Braunschweig Chemnitz Kiel Aachen
Halle Magdeburg Freiburg Krefeld Lübeck Luebeck Oberhausen Erfurt Mainz Rostock Kassel Hagen Hamm
Saarbrücken Mülheim Potsdam Ludwigshafen Oldenburg Leverkusen Osnabrück Solingen Heidelberg Herne
Neuss Darmstadt Paderborn Regensburg Ingolstadt Würzburg Wuerzburg Fürth Wolfsburg Offenbach Ulm
Heilbronn Pforzheim Göttingen Bottrop Trier Recklinghausen Reutlingen Bremerhaven Koblenz Jena
Erlangen Remscheid Moers Siegen Hildesheim Salzgitter Cottbus Kaiserslautern Gütersloh Schwerin
Witten Gera Iserlohn Zwickau Düren Esslingen Ratingen Marl Lünen Hanau Flensburg Tübingen Tuebingen
Konstanz Worms Marburg Gießen Giessen Bamberg Bayreuth Passau Landshut Rosenheim Kempten Lüneburg
Celle Wilhelmshaven Greifswald Stralsund Neubrandenburg Wismar Dessau Weimar Gotha Suhl Plauen
Görlitz Bautzen Hoyerswinkel Frankfurt_(Oder) Heide Husum Neumünster Norderstedt Itzehoe Emden Aurich
Leer Lingen Meppen Nordhorn Cuxhaven Stade Verden Celle Goslar Wolfenbüttel Hameln Minden Herford
Detmold Lemgo Soest Arnsberg Lippstadt Unna Hamm Coesfeld Borken Bocholt Wesel Kleve Viersen Kempen
Neuwied Bad_Kreuznach Idar-Oberstein Landau Speyer Neustadt Frankenthal Pirmasens Zweibrücken
Homburg Saarlouis Neunkirchen Offenburg Lahr Villingen-Schwenningen Singen Ravensburg Friedrichshafen
Sigmaringen Biberach Aalen Schwäbisch_Hall Crailsheim Heidenheim Göppingen Ludwigsburg Böblingen Sindelfingen
Waiblingen Backnang Nürtingen Kirchheim Rottweil Tuttlingen Lörrach Baden-Baden Rastatt Bruchsal
Schweinfurt Aschaffenburg Coburg Hof Amberg Weiden Straubing Deggendorf Altötting Traunstein Freising
Dachau Erding Starnberg Garmisch-Partenkirchen Memmingen Kaufbeuren Neu-Ulm Dillingen Donauwörth
Wien Graz Linz Salzburg Innsbruck Klagenfurt Villach Wels Steyr Leoben Dornbirn Feldkirch Bregenz
Wiener_Neustadt St._Pölten Krems Baden Mödling Amstetten Kapfenberg Wolfsberg Spittal Lienz
Zürich Zuerich Genf Basel Bern Lausanne Winterthur Luzern St._Gallen Lugano Biel Thun Chur Schaffhausen
Fribourg Freiburg Aarau Olten Solothurn Zug
Amsterdam Rotterdam Brüssel Paris Lyon Straßburg Strasbourg London Rom Mailand Madrid Barcelona Lissabon
Prag Warschau Krakau Budapest Belgrad Zagreb Ljubljana Sarajevo Bukarest Sofia Athen Istanbul Ankara
Moskau Kiew Kyjiw Minsk Riga Vilnius Tallinn Helsinki Stockholm Oslo Kopenhagen Dublin Edinburgh
New_York Boston Chicago
""")

COUNTRIES = _words("""
Deutschland Österreich Oesterreich Schweiz Frankreich Italien Spanien Portugal Polen Tschechien
Ungarn Kroatien Serbien Bosnien Slowenien Rumänien Bulgarien Griechenland Türkei Tuerkei Russland
Ukraine Weißrussland Belarus Litauen Lettland Estland Schweden Norwegen Dänemark Finnland Niederlande
Holland Belgien Luxemburg England Großbritannien Irland Schottland Syrien Irak Iran Afghanistan
Pakistan Indien China Japan Korea Vietnam Thailand Marokko Algerien Tunesien Ägypten Nigeria Eritrea
Somalia Äthiopien Kenia Brasilien Argentinien Mexiko Kanada Australien USA Amerika Kosovo Albanien
Mazedonien Montenegro Moldawien Georgien Armenien Aserbaidschan Kasachstan Libanon Israel
""")

# Capitalised words that may follow a cue such as "Frau", "Herr", "Dr." or stand at the start of a
# line, but are not names (forms of address, roles, clinical nouns of letter headers).
NOT_NAME = frozenset(_words("""
Kollege Kollegin Kollegen Kolleginnen Doktor Doktorin Professor Professorin Patient Patientin Patienten
Pat Patientinnen Herr Herrn Frau Fr Hr Dr Prof Med Univ Priv Doz PD OA OÄ Oberarzt Oberärztin
Chefarzt Chefärztin Assistenzarzt Assistenzärztin Stationsarzt Stationsärztin Facharzt Fachärztin Arzt
Ärztin Direktor Direktorin Primar Primaria Primarius Primarin Vorstand Leiter Leiterin Mag Dipl Ing
Mit Und Oder Der Die Das Dem Den Des Ein Eine Einer Eines Im In Am An Auf Aus Bei Von Vom Zu Zum Zur
Nach Vor Seit Für Über Unter Mit Ohne Gegen Bis Wir Sie Er Es Ihr Ihre Ihren Ihrem Ihres Unser Unsere
Unseren Unserem Sehr Geehrte Geehrter Geehrten Liebe Lieber Werte Werter Hallo Guten Tag Danke Dank
Befund Befunde Diagnose Diagnosen Anamnese Therapie Verlauf Procedere Epikrise Status Aufnahme
Entlassung Medikation Empfehlung Empfehlungen Beurteilung Zusammenfassung Labor Röntgen Sonographie
Histologie Klinik Klinikum Krankenhaus Station Ambulanz Abteilung Praxis Zentrum Universität
Mutter Vater Sohn Tochter Ehemann Ehefrau Bruder Schwester Eltern Kind Kinder Partner Partnerin
Betreff Betr Datum Name Geb Geboren Fallnummer Telefon Tel Fax Email Mail Adresse Anschrift
Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Januar Februar März April Mai Juni Juli
August September Oktober November Dezember Heute Morgen Abend Nacht Woche Wochen Monat Monate Jahr
Jahre Jahren Z St Morbus MD PhD MBA MSc Msc BSc Alle Bitte Gruß Grüßen Grüße Freundlichen Kollegialen
Ass Assistenz DGKS DGKP OT Orthoptistin Untersucher Untersucherin Geschrieben Diktiert Gez Gezeichnet
Allgemeinmedizin Innere Medizin Chirurgie Neurologie Radiologie Onkologie Strahlentherapie Urologie
Gynäkologie Psychiatrie Pädiatrie Kardiologie Dermatologie Orthopädie Unfallchirurgie Anästhesie
Intensivstation Normalstation Notaufnahme Rettungsstelle Ihnen Ihnen Wie Was Wer Wo Wann Warum Kein
Keine Nicht Ja Nein Herzlichen Vielen Dr.med Sehr Hochachtungsvoll Anbei Anlage Kopie Verteiler
CT MRT PET EKG EEG OP OPs KG AZ EZ Lj LJ Jhd ED Ca CA Tbl Lt Ca Vgl Ggf Bzw Inkl Exkl Zn Sp
Klinische Klinischer Klinisches Zeit Eindruck Mr Mrs Ms Mx Miss Dear Sir Madam Professor
Professorin Colleague Colleagues Thank Thanks We Our The Neue Neuer Neues Aktuell Aktuelle Aktueller Bisher Bisherige
""")) | frozenset(w.upper() for w in _words("Kollege Kollegin Patient Patientin Herr Herrn Frau Dr Prof"))

# Word endings of German common nouns and adjectives that are practically never surnames.
NON_NAME_SUFFIXES = (
    "ung", "ungen", "heit", "keit", "schaft", "tion", "tionen", "ismus", "tät", "itis", "ose", "osen",
    "ektomie", "tomie", "skopie", "graphie", "grafie", "logie", "therapie", "ämie", "urie", "algie",
    "plastik", "ierung", "ment", "ometer", "gramm", "ive", "iven", "isch", "ische", "ischen", "om", "ome", "omen",
    "lich", "liche", "lichen", "licher", "bar", "sam", "ieren", "iert", "ierte", "mäßig", "weise",
    "zentrum", "klinik", "station", "abteilung", "praxis", "befund", "diagnose", "anamnese",
)

STREETS = _words("""
Hauptstraße Bahnhofstraße Gartenstraße Schulstraße Dorfstraße Bergstraße Lindenstraße Kirchstraße
Waldstraße Ringstraße Wiesenstraße Mühlenweg Birkenweg Ahornweg Eichenweg Rosenweg Tulpenweg
Goethestraße Schillerstraße Lessingstraße Mozartstraße Beethovenstraße Friedhofstraße Feldweg
Am_Sportplatz Am_Markt Marktplatz Kirchplatz Lindenallee Parkstraße Blumenstraße Sonnenweg
Mittelweg Uferstraße Brunnenstraße Rathausstraße Poststraße Wilhelmstraße Kastanienallee Amselweg
Finkenweg Drosselweg Lerchenweg Tannenweg Kiefernweg Buchenweg Erlenweg Fliederweg Nelkenweg
""")

# Place names that are also ordinary German words; matched only in address context.
AMBIGUOUS_CITIES = frozenset(_words("""
Essen Halle Hof Heide Leer Baden Singen Worms Weiden Zug Lahr Wels Sofia Hagen Marl Biel Thun Kempen
Olten Bergen Weil
"""))

# Common nouns that are also surnames ("Leber", "Finger", "Zucker"): such a word is a name only
# right after a cue (title, form of address), never by propagation or a first-name list.
COMMON_NOUNS = frozenset(_words("""
Hand Fuß Fuss Kopf Hals Arm Bein Knie Leber Niere Lunge Herz Magen Darm Blase Galle Haut Haar Auge Ohr Nase
Mund Zahn Finger Zehe Rücken Brust Bauch Becken Hüfte Schulter Knochen Blut Sturz Fall Schmerz Fieber
Zucker Salz Wasser Messer Gabel Stein Berg Wald Feld Bach Busch Baum Blume Rose Vogel Fisch Fuchs
Wolf Hahn Huhn Hecht Kohl Koch Braun Schwarz Weiß Weiss Roth Klein Groß Gross Lang Lange Kurz Jung Alt Neu
Winter Sommer Frühling Herbst Morgen Abend Tag Nacht Mai Kaiser König Graf Meister Glück Engel Teufel
Sauer Süß Heil Reich
Rauch Dampf Licht Sonne Mond Stern Himmel Regen Schnee Eis Feuer Kraft Macht Zeit Ruhe Frieden Krieg
Haus Hof Dorf Stadt Burg Turm Mauer Brücke Weg Straße Platz Markt Kirche Schule Post Bank Kasse
Bett Tisch Stuhl Tür Fenster Dach Keller Garten Boden Decke Wand Ecke Kante Spitze Rand Mitte Seite
Blau Grün Gelb Rot Grau Hell Dunkel Dick Dünn Hoch Tief Breit Schmal Fest Locker Hart Weich Warm Kalt
"""))
