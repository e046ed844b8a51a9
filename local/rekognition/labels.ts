/**
 * COCO class names -> Rekognition-style labels.
 *
 * Rekognition answers with label names in Title Case, a hierarchy of parents (every ancestor
 * is listed in `Parents`, and also returned as a label of its own with `Instances: []` and the
 * confidence of its best child) and broad `Categories`. The taxonomy below is a hand-written
 * approximation in that style, NOT a copy of AWS's label hierarchy; it exists so product code
 * that looks for "Cat" or "Animal" behaves locally the way it would against AWS.
 */
import type { BoundingBox, Detection } from './postprocess.ts';

/** The 80 COCO classes in the order of CenterNet's class index (0 = person). */
export const COCO_CLASSES: readonly string[] = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
  'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
  'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
  'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite',
  'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant',
  'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone',
  'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
];

/** Where Title Case of the COCO name is not what Rekognition calls the thing. */
const NAME_OVERRIDES: Readonly<Record<string, string>> = {
  tv: 'TV',
  'cell phone': 'Mobile Phone',
  'hair drier': 'Hair Dryer',
  'sports ball': 'Ball',
  remote: 'Remote Control',
};

/** [category, ...direct parents] per label; ancestors are resolved transitively. */
const TAXONOMY: Readonly<Record<string, readonly [string, ...string[]]>> = {
  // Parent-only labels (never detected directly).
  Animal: ['Animals and Pets'],
  Mammal: ['Animals and Pets', 'Animal'],
  Pet: ['Animals and Pets', 'Animal'],
  Wildlife: ['Animals and Pets', 'Animal'],
  Livestock: ['Animals and Pets', 'Animal'],
  Transportation: ['Vehicles and Automotive'],
  Vehicle: ['Vehicles and Automotive', 'Transportation'],
  Aircraft: ['Vehicles and Automotive', 'Vehicle'],
  Furniture: ['Furniture and Furnishings'],
  Food: ['Food and Beverage'],
  Plant: ['Plants and Flowers'],
  Fruit: ['Food and Beverage', 'Plant', 'Food'],
  Vegetable: ['Food and Beverage', 'Plant', 'Food'],
  Electronics: ['Technology and Computing'],
  'Computer Hardware': ['Technology and Computing', 'Electronics'],
  Appliance: ['Home and Indoors'],
  Accessories: ['Apparel and Accessories'],
  Bag: ['Apparel and Accessories', 'Accessories'],
  'Sports Equipment': ['Sports'],
  Toy: ['Toys and Gaming'],
  Tableware: ['Kitchen and Dining'],
  Cutlery: ['Kitchen and Dining', 'Tableware'],
  Symbol: ['Everyday Objects'],
  Sign: ['Public Safety', 'Symbol'],
  // Labels for the COCO classes.
  Person: ['Person Description'],
  Bicycle: ['Vehicles and Automotive', 'Vehicle'],
  Car: ['Vehicles and Automotive', 'Vehicle'],
  Motorcycle: ['Vehicles and Automotive', 'Vehicle'],
  Airplane: ['Vehicles and Automotive', 'Aircraft'],
  Bus: ['Vehicles and Automotive', 'Vehicle'],
  Train: ['Vehicles and Automotive', 'Vehicle'],
  Truck: ['Vehicles and Automotive', 'Vehicle'],
  Boat: ['Vehicles and Automotive', 'Vehicle'],
  'Traffic Light': ['Public Safety'],
  'Fire Hydrant': ['Public Safety'],
  'Stop Sign': ['Public Safety', 'Sign'],
  'Parking Meter': ['Everyday Objects'],
  Bench: ['Furniture and Furnishings', 'Furniture'],
  Bird: ['Animals and Pets', 'Animal'],
  Cat: ['Animals and Pets', 'Pet', 'Mammal'],
  Dog: ['Animals and Pets', 'Pet', 'Mammal'],
  Horse: ['Animals and Pets', 'Mammal'],
  Sheep: ['Animals and Pets', 'Mammal', 'Livestock'],
  Cow: ['Animals and Pets', 'Mammal', 'Livestock'],
  Elephant: ['Animals and Pets', 'Mammal', 'Wildlife'],
  Bear: ['Animals and Pets', 'Mammal', 'Wildlife'],
  Zebra: ['Animals and Pets', 'Mammal', 'Wildlife'],
  Giraffe: ['Animals and Pets', 'Mammal', 'Wildlife'],
  Backpack: ['Apparel and Accessories', 'Bag'],
  Umbrella: ['Apparel and Accessories', 'Accessories'],
  Handbag: ['Apparel and Accessories', 'Bag'],
  Tie: ['Apparel and Accessories', 'Accessories'],
  Suitcase: ['Apparel and Accessories', 'Bag'],
  Frisbee: ['Toys and Gaming', 'Toy'],
  Skis: ['Sports', 'Sports Equipment'],
  Snowboard: ['Sports', 'Sports Equipment'],
  Ball: ['Sports', 'Sports Equipment'],
  Kite: ['Toys and Gaming', 'Toy'],
  'Baseball Bat': ['Sports', 'Sports Equipment'],
  'Baseball Glove': ['Sports', 'Sports Equipment'],
  Skateboard: ['Sports', 'Sports Equipment'],
  Surfboard: ['Sports', 'Sports Equipment'],
  'Tennis Racket': ['Sports', 'Sports Equipment'],
  Bottle: ['Kitchen and Dining'],
  'Wine Glass': ['Kitchen and Dining', 'Tableware'],
  Cup: ['Kitchen and Dining', 'Tableware'],
  Fork: ['Kitchen and Dining', 'Cutlery'],
  Knife: ['Kitchen and Dining', 'Cutlery'],
  Spoon: ['Kitchen and Dining', 'Cutlery'],
  Bowl: ['Kitchen and Dining', 'Tableware'],
  Banana: ['Food and Beverage', 'Fruit'],
  Apple: ['Food and Beverage', 'Fruit'],
  Sandwich: ['Food and Beverage', 'Food'],
  Orange: ['Food and Beverage', 'Fruit'],
  Broccoli: ['Food and Beverage', 'Vegetable'],
  Carrot: ['Food and Beverage', 'Vegetable'],
  'Hot Dog': ['Food and Beverage', 'Food'],
  Pizza: ['Food and Beverage', 'Food'],
  Donut: ['Food and Beverage', 'Food'],
  Cake: ['Food and Beverage', 'Food'],
  Chair: ['Furniture and Furnishings', 'Furniture'],
  Couch: ['Furniture and Furnishings', 'Furniture'],
  'Potted Plant': ['Plants and Flowers', 'Plant'],
  Bed: ['Furniture and Furnishings', 'Furniture'],
  'Dining Table': ['Furniture and Furnishings', 'Furniture'],
  Toilet: ['Home and Indoors'],
  TV: ['Technology and Computing', 'Electronics'],
  Laptop: ['Technology and Computing', 'Computer Hardware'],
  Mouse: ['Technology and Computing', 'Computer Hardware'],
  'Remote Control': ['Technology and Computing', 'Electronics'],
  Keyboard: ['Technology and Computing', 'Computer Hardware'],
  'Mobile Phone': ['Technology and Computing', 'Electronics'],
  Microwave: ['Home and Indoors', 'Appliance'],
  Oven: ['Home and Indoors', 'Appliance'],
  Toaster: ['Home and Indoors', 'Appliance'],
  Sink: ['Home and Indoors'],
  Refrigerator: ['Home and Indoors', 'Appliance'],
  Book: ['Everyday Objects'],
  Clock: ['Everyday Objects'],
  Vase: ['Home and Indoors'],
  Scissors: ['Tools and Machinery'],
  'Teddy Bear': ['Toys and Gaming', 'Toy'],
  'Hair Dryer': ['Home and Indoors', 'Appliance'],
  Toothbrush: ['Everyday Objects'],
};

// ---- wire shapes (PascalCase, exactly what the AWS JSON protocol carries) ----

export interface WireName {
  Name: string;
}

export interface WireBoundingBox {
  Width: number;
  Height: number;
  Left: number;
  Top: number;
}

export interface WireInstance {
  BoundingBox: WireBoundingBox;
  Confidence: number;
}

export interface WireLabel {
  Name: string;
  Confidence: number;
  Instances: WireInstance[];
  Parents: WireName[];
  Aliases: WireName[];
  Categories: WireName[];
}

export interface LabelOptions {
  /** Percent, 0-100: detections below it are not reported. */
  minConfidence: number;
  /** Cap on the number of labels (parents included), applied after sorting. */
  maxLabels: number;
}

function titleCase(words: string): string {
  return words.replace(/\b[a-z]/g, (c) => c.toUpperCase());
}

/** `cat` -> `Cat`, `dining table` -> `Dining Table`, `tv` -> `TV`. */
export function labelNameFor(cocoClass: string): string {
  return NAME_OVERRIDES[cocoClass] ?? titleCase(cocoClass);
}

/** All ancestors, nearest first (as in Rekognition's `Automobile` -> `Vehicle`, `Transportation`). */
export function ancestorsOf(label: string): string[] {
  const seen: string[] = [];
  let frontier = TAXONOMY[label]?.slice(1) ?? [];
  while (frontier.length > 0) {
    const fresh = frontier.filter((name, i) => !seen.includes(name) && frontier.indexOf(name) === i);
    seen.push(...fresh);
    frontier = fresh.flatMap((name) => TAXONOMY[name]?.slice(1) ?? []);
  }
  return seen;
}

export function categoryOf(label: string): string | undefined {
  return TAXONOMY[label]?.[0];
}

function toWireBox(box: BoundingBox): WireBoundingBox {
  return { Width: box.width, Height: box.height, Left: box.left, Top: box.top };
}

interface LabelAccumulator {
  confidence: number;
  instances: WireInstance[];
}

function accumulate(detections: readonly Detection[], minConfidence: number): Map<string, LabelAccumulator> {
  const byName = new Map<string, LabelAccumulator>();
  const bump = (name: string, confidence: number): LabelAccumulator => {
    const entry = byName.get(name) ?? { confidence: 0, instances: [] };
    entry.confidence = Math.max(entry.confidence, confidence);
    byName.set(name, entry);
    return entry;
  };
  for (const detection of detections) {
    const confidence = detection.score * 100;
    if (confidence < minConfidence) continue;
    const name = labelNameFor(detection.className);
    bump(name, confidence).instances.push({ BoundingBox: toWireBox(detection.box), Confidence: confidence });
    // A parent's confidence is that of its most confident child; parents carry no boxes.
    for (const parent of ancestorsOf(name)) bump(parent, confidence);
  }
  return byName;
}

function toWireLabel(name: string, entry: LabelAccumulator): WireLabel {
  const category = categoryOf(name);
  return {
    Name: name,
    Confidence: entry.confidence,
    Instances: [...entry.instances].sort((a, b) => b.Confidence - a.Confidence),
    Parents: ancestorsOf(name).map((Name) => ({ Name })),
    Aliases: [],
    Categories: category ? [{ Name: category }] : [],
  };
}

/** Ties (a child and its parents share a confidence) put the most specific label first. */
function compareLabels(a: WireLabel, b: WireLabel): number {
  return (
    b.Confidence - a.Confidence ||
    b.Instances.length - a.Instances.length ||
    b.Parents.length - a.Parents.length ||
    a.Name.localeCompare(b.Name)
  );
}

/** Detections -> Rekognition `Labels`, parents included, sorted by confidence (descending). */
export function toRekognitionLabels(detections: readonly Detection[], options: LabelOptions): WireLabel[] {
  const labels = [...accumulate(detections, options.minConfidence)].map(([name, entry]) => toWireLabel(name, entry));
  return labels.sort(compareLabels).slice(0, Math.max(0, options.maxLabels));
}
