import type { Deps } from './deps.ts';
import { challengeInput } from './modules/challenges/challenges.schemas.ts';
import type { Principal } from './platform/http/access.ts';

export const A_PLUS_B_TITLE = 'A + B';
export const CIRCLE_TITLE = 'Area of a circle';

/** Starter code that reads two integers, in every language it can be offered in. */
const A_PLUS_B_STARTERS: Record<string, string> = {
  python: 'a, b = map(int, input().split())\n# print the sum\n',
  javascript:
    'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\n// print the sum\n',
  typescript:
    'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\n// print the sum\n',
  c: '#include <stdio.h>\n\nint main(void) {\n  long long a, b;\n  scanf("%lld %lld", &a, &b);\n  /* print the sum */\n  return 0;\n}\n',
  cpp: '#include <iostream>\n\nint main() {\n  long long a, b;\n  std::cin >> a >> b;\n  // print the sum\n}\n',
  java: 'import java.util.Scanner;\n\npublic class Main {\n  public static void main(String[] args) {\n    Scanner in = new Scanner(System.in);\n    long a = in.nextLong(), b = in.nextLong();\n    // print the sum\n  }\n}\n',
  r: 'x <- scan(file("stdin"), quiet = TRUE)\n# print the sum\n',
  bash: 'read a b\n# print the sum\n',
  go: 'package main\n\nimport "fmt"\n\nfunc main() {\n\tvar a, b int64\n\tfmt.Scan(&a, &b)\n\t// print the sum\n}\n',
  rust: 'use std::io::Read;\n\nfn main() {\n    let mut s = String::new();\n    std::io::stdin().read_to_string(&mut s).unwrap();\n    let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n    // print the sum of v[0] and v[1]\n}\n',
};

const A_PLUS_B_TESTS = [
  { input: '1 2\n', expectedOutput: '3\n', hidden: false, weight: 1 },
  { input: '-5 5\n', expectedOutput: '0\n', hidden: false, weight: 1 },
  {
    input: '1000000000000 1000000000000\n',
    expectedOutput: '2000000000000\n',
    hidden: true,
    weight: 2,
  },
  { input: '-7 -8\n', expectedOutput: '-15\n', hidden: true, weight: 2 },
];

const CIRCLE_TESTS = [
  { input: '1\n', expectedOutput: '3.14159265\n', hidden: false, weight: 1 },
  { input: '2.5\n', expectedOutput: '19.63495408\n', hidden: false, weight: 1 },
  { input: '0\n', expectedOutput: '0\n', hidden: true, weight: 1 },
  { input: '1000\n', expectedOutput: '3141592.65358979\n', hidden: true, weight: 2 },
];

export type SeededChallenge = { id: string; title: string; created: boolean };

/**
 * Two demo challenges: A + B with public and hidden tests and starter code in every language
 * offered here, and a float-checked one. Without a usable sandbox there is nothing to offer
 * (challenges take only languages that run here): then none is created and `reason` says why.
 */
export async function seedDemoChallenges(
  deps: Deps,
  author: Principal,
): Promise<{ challenges: SeededChallenge[]; reason: string | null }> {
  const status = await deps.execution.status();
  if (!status.available) return { challenges: [], reason: status.reason };
  const offered = status.languages.map((language) => language.id);
  const existing = await deps.challenges.list(author, { limit: 100 });
  const ensure = async (
    title: string,
    spec: Record<string, unknown>,
    tests: typeof A_PLUS_B_TESTS,
  ): Promise<SeededChallenge> => {
    const found = existing.items.find((item) => item.title === title);
    if (found) return { id: found.id, title, created: false };
    const created = await deps.challenges.create(author, challengeInput.parse({ title, ...spec }));
    await deps.challenges.addTests(author, created.id, tests);
    return { id: created.id, title, created: true };
  };
  const aPlusB = await ensure(
    A_PLUS_B_TITLE,
    {
      statement:
        'Read two integers **a** and **b** (|a|, |b| ≤ 10¹²) separated by a space, and print **a + b**.\n\nThe hidden tests use large numbers: mind the integer type.',
      difficulty: 'easy',
      languages: offered,
      starterCode: Object.fromEntries(
        offered.flatMap((id) => (A_PLUS_B_STARTERS[id] ? [[id, A_PLUS_B_STARTERS[id]]] : [])),
      ),
      checker: 'trim',
      points: 100,
    },
    A_PLUS_B_TESTS,
  );
  const circle = await ensure(
    CIRCLE_TITLE,
    {
      statement:
        'Read a radius **r** (0 ≤ r ≤ 1000) and print the area of the circle, π·r². Answers within 10⁻⁶ (absolute or relative) are accepted.',
      difficulty: 'easy',
      languages: offered,
      checker: 'float',
      floatTolerance: 1e-6,
      points: 100,
    },
    CIRCLE_TESTS,
  );
  return { challenges: [aPlusB, circle], reason: null };
}
