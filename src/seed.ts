import { randomBytes } from 'node:crypto';
import type { Deps } from './deps.ts';
import { type QuestionInput, questionInput } from './modules/questions/questions.schemas.ts';
import type { Role } from './modules/users/users.models.ts';
import type { Principal } from './platform/http/access.ts';
import { A_PLUS_B_TITLE, seedDemoChallenges } from './seed.challenges.ts';

/**
 * Demo accounts for trying Assay locally. No password is written down anywhere: each account
 * created gets a fresh random one, printed once by `assay seed`.
 */
const DEMO_ACCOUNTS: ReadonlyArray<{ email: string; name: string; role: Role }> = [
  { email: 'admin@assay.local', name: 'Ada Admin', role: 'admin' },
  { email: 'instructor@assay.local', name: 'Ian Instructor', role: 'instructor' },
  { email: 'student1@assay.local', name: 'Sam Student', role: 'student' },
  { email: 'student2@assay.local', name: 'Sasha Student', role: 'student' },
  { email: 'student3@assay.local', name: 'Sol Student', role: 'student' },
];

const demoPassword = () => `demo-${randomBytes(9).toString('base64url')}`;

export const DEMO_QUIZ_TITLE = 'Assay tour: one question of every type';

/** One question of each type, written so a newcomer learns what each type does. */
const DEMO_QUESTIONS: QuestionInput[] = [
  {
    type: 'single_choice',
    name: 'Single choice',
    prompt: 'Which planet is closest to the Sun?',
    options: [{ text: 'Mercury', correct: true }, { text: 'Venus' }, { text: 'Mars' }],
    explanation: 'Mercury orbits at about 0.39 AU.',
    tags: ['demo', 'astronomy'],
    level: 'beginner',
  },
  {
    type: 'multiple_choice',
    name: 'Multiple choice',
    prompt: 'Which of these are prime numbers? (partial credit; wrong picks cost)',
    options: [
      { text: '2', correct: true },
      { text: '3', correct: true },
      { text: '4' },
      { text: '9' },
    ],
    points: 2,
    tags: ['demo', 'maths'],
    level: 'beginner',
  },
  {
    type: 'true_false',
    name: 'True or false',
    prompt: 'HTTP status 404 means *Not Found*.',
    correct: true,
    tags: ['demo', 'web'],
    level: 'beginner',
  },
  {
    type: 'short_answer',
    name: 'Short answer',
    prompt: 'What is the capital of Japan? (case and spacing do not matter)',
    accepted: ['Tokyo', { text: 'Edo', weight: 0.5 }],
    explanation: 'Tokyo was called Edo until 1868.',
    tags: ['demo', 'geography'],
    level: 'beginner',
  },
  {
    type: 'numeric',
    name: 'Numeric',
    prompt: 'What is π to two decimal places? (±0.01 accepted)',
    correct: 3.14,
    tolerance: 0.01,
    tags: ['demo', 'maths'],
    level: 'intermediate',
  },
].map((question) => questionInput.parse(question));

/** The code question, on the seeded A + B challenge. */
const codeQuestion = (challengeId: string) =>
  questionInput.parse({
    type: 'code',
    name: 'Code',
    prompt: 'Read two integers from standard input and print their sum.',
    challengeId,
    points: 3,
    tags: ['demo', 'programming'],
    level: 'beginner',
  });

/** The demo quiz, once: published, timed, with every question type. */
async function seedDemoQuiz(deps: Deps, author: Principal, codeChallengeId: string | null) {
  const existing = await deps.quizzes.list(author, { limit: 100 });
  const found = existing.items.find((quiz) => quiz.title === DEMO_QUIZ_TITLE);
  if (found) return { id: found.id, created: false };
  const ids: string[] = [];
  // Without a sandbox there is no challenge to ask about: the tour then has no code question.
  const questions = codeChallengeId
    ? [...DEMO_QUESTIONS, codeQuestion(codeChallengeId)]
    : DEMO_QUESTIONS;
  for (const question of questions)
    ids.push((await deps.questions.create(question, author.userId)).id);
  const quiz = await deps.quizzes.create(author, {
    title: DEMO_QUIZ_TITLE,
    description: 'A short tour of what Assay can ask. Your answers save as you go.',
    durationMinutes: 15,
    maxAttempts: 3,
    shuffleOptions: true,
    passMark: 50,
    reviewPolicy: 'after_submit',
    maxFocusLosses: 5,
    questions: ids.map((questionId) => ({ questionId })),
  });
  await deps.quizzes.publish(author, quiz.id);
  return { id: quiz.id, created: true };
}

/** Creates the missing demo accounts; existing ones keep their password (`password` is then null). */
export async function seedDemoData(deps: Deps) {
  const results: Array<{ email: string; role: Role; password: string | null; created: boolean }> =
    [];
  for (const account of DEMO_ACCOUNTS) {
    const existing = await deps.users.findByEmail(account.email);
    const password = existing ? null : demoPassword();
    if (password) await deps.users.createActive({ ...account, password });
    results.push({ email: account.email, role: account.role, password, created: !existing });
  }
  const instructor = await deps.users.findByEmail('instructor@assay.local');
  if (!instructor) throw new Error('the demo instructor is missing');
  const author: Principal = {
    userId: instructor.id,
    role: 'instructor',
    email: instructor.email,
    name: instructor.name,
  };
  const challenges = await seedDemoChallenges(deps, author);
  const aPlusB = challenges.challenges.find((challenge) => challenge.title === A_PLUS_B_TITLE);
  const quiz = await seedDemoQuiz(deps, author, aPlusB?.id ?? null);
  return { accounts: results, challenges, quiz: { ...quiz, title: DEMO_QUIZ_TITLE } };
}
