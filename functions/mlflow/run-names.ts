/** Names for runs created without one, in MLflow's style: `adjective-animal-NNN`. */
const ADJECTIVES = [
  "abundant", "agreeable", "amazing", "bald", "bemused", "brawny", "bright", "calm", "capable", "casual",
  "clean", "clever", "colorful", "crawling", "dapper", "debonair", "delicate", "enchanting", "exultant", "fearless",
  "gentle", "gifted", "glamorous", "grandiose", "handsome", "honorable", "illustrious", "indecisive", "judicious", "kindly",
  "learned", "legendary", "likeable", "loud", "luminous", "marvelous", "masked", "melodic", "merciful", "nimble",
  "nervous", "omniscient", "orderly", "overjoyed", "peaceful", "polite", "puzzled", "resilient", "rogue", "rumbling",
  "serious", "silent", "skillful", "smiling", "sneaky", "spiffy", "stately", "suave", "thoughtful", "traveling",
  "trusting", "unequaled", "upbeat", "valuable", "victorious", "vaunted", "welcoming", "wise", "youthful", "zealous",
];
const ANIMALS = [
  "ant", "ape", "asp", "auk", "bass", "bat", "bear", "bee", "bird", "boar", "bug", "calf", "carp", "cat", "chimp",
  "cod", "colt", "conch", "cow", "crab", "crane", "croc", "crow", "cub", "deer", "doe", "dog", "dolphin", "donkey",
  "dove", "duck", "eel", "elk", "fawn", "finch", "fish", "flea", "fly", "foal", "fowl", "fox", "frog", "gnat", "gnu",
  "goat", "goose", "grouse", "grub", "gull", "hare", "hawk", "hen", "hog", "horse", "hound", "jay", "kit", "kite",
  "koi", "lamb", "lark", "loon", "lynx", "mare", "midge", "mink", "mole", "moose", "moth", "mouse", "mule", "newt",
  "owl", "ox", "panda", "penguin", "perch", "pig", "pug", "quail", "ram", "rat", "ray", "robin", "roo", "rook",
  "seal", "shad", "shark", "sheep", "shoat", "shrew", "shrike", "shrimp", "skink", "skunk", "sloth", "slug",
  "smelt", "snail", "snake", "snipe", "sow", "sponge", "squid", "squirrel", "stag", "steed", "stoat", "stork",
  "swan", "tern", "toad", "trout", "turtle", "vole", "wasp", "whale", "wolf", "worm", "wren", "yak", "zebra",
];

const pick = <T>(items: readonly T[], random: number) => items[random % items.length];

export function generateRunName(): string {
  const [a, b, n] = crypto.getRandomValues(new Uint32Array(3));
  return `${pick(ADJECTIVES, a)}-${pick(ANIMALS, b)}-${n % 1000}`;
}
