//! Small hand-written English word lists used to keep name and place gazetteers precise:
//! census name lists contain many ordinary words ("will", "may", "see", "in").

use std::collections::HashSet;
use std::sync::OnceLock;

/// Words that are never a person's name, whatever the casing or cue (function words, pronouns,
/// numbers, calendar words, frequent verbs and nouns of assistant queries).
const NEVER: &str = "a an the and or but if of in on at to for from by with without about into onto over under up \
down out off as is are was were be been am do does did done have has had having i me my mine you your yours he him \
his she her hers it its we us our they them their this that these those there here what which who whom whose when \
where why how all any some no not yes yeah yep nope ok okay please thanks thank hi hello hey bye goodbye sorry can \
could would should shall might must need want like get got give go going come make take book reserve \
reservation table seat seats people person persons guest guests party tonight today tomorrow yesterday now later \
soon morning afternoon evening night noon midnight day days week weeks weekend month months year years hour hours \
minute minutes second seconds time date monday tuesday wednesday thursday friday saturday sunday january february \
march april may june july august september october november december jan feb mar apr jun jul aug sep sept oct nov \
dec one two three four five six seven eight nine ten eleven twelve thirteen twenty thirty forty fifty hundred \
first second third fourth fifth last next previous new old good great fine nice cool sure right left just only also \
very much many more most less few lot lots name names number phone email call called calling play set find show \
search add rate tell say said see look book books song songs music movie movies film weather rain sun snow star \
stars man men woman women boy girl kid kids child children wife husband son daughter mom dad mother father brother \
sister friend friends family baby love home house work office store shop bike car service repair fix help info \
restaurant dinner lunch breakfast food place city state country street road room bar pub cafe hotel spa so too \
then than because while until since also well back even still again ever never always often once twice per each \
every both either neither own same other another such just done don don't won't can't i'm it's that's what's let \
let's lets maybe probably definitely actually really exactly about around near nearby far away best better worse \
worst big small large little long short high low early late open close closed free busy available christmas \
easter thanksgiving halloween hanukkah passover ramadan diwali valentine valentines";

/// Given names that are also common English words: names only when capitalised mid-sentence or
/// after a strong cue ("my name is Will").
const SOFT: &str = "will bill mark hope grace faith joy rose ruby pearl amber crystal ivy holly daisy lily iris violet \
dawn eve summer autumn winter spring sky sunny stormy windy rain chance lucky angel honey candy ginger cherry \
jasmine willow destiny precious unique heaven glory liberty patience prudence charity mercy harmony melody \
melody dove robin jay wren lark fern hazel olive sage laurel heather misty storm guy rich chip don art buck \
frank rocky rusty woody sandy chase hunter carter mason tanner parker porter king prince princess queen lady \
duke earl baron major miles august june april may january lane dale glen brook brooks cliff forest river ray \
wade drew gene jean sue pat ed al jo bo ace max rex sam tom tim jack joe bob rob ron dan ken sal ted ben kim \
lee long young white black brown green gray grey gold silver diamond bell song star moon sun sonny sky blue \
hill wood stone page case price pace hart hunt cook baker miller taylor may many son see man love van le la";

/// Any common word (both lists): place and language names that are such words need capitals.
pub(crate) struct Words {
    never: HashSet<&'static str>,
    soft: HashSet<&'static str>,
}

impl Words {
    pub fn get() -> &'static Words {
        static W: OnceLock<Words> = OnceLock::new();
        W.get_or_init(|| Words {
            never: NEVER.split_whitespace().collect(),
            soft: SOFT.split_whitespace().collect(),
        })
    }
    /// `w` lower-cased.
    pub fn is_never_name(&self, w: &str) -> bool {
        self.never.contains(w)
    }
    /// `w` lower-cased.
    pub fn is_soft(&self, w: &str) -> bool {
        self.soft.contains(w)
    }
    pub fn is_common(&self, w: &str) -> bool {
        self.never.contains(w) || self.soft.contains(w)
    }
}
