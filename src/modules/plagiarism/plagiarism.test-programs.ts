/**
 * One exercise (print the sum of the even numbers among n read from stdin) as students write
 * it, per language: an original, a copy of it with every name changed, comments reworded and
 * the layout moved, and a solution written independently. The copies are meant to repeat the
 * originals' shape: that is what the detector must see through.
 */

// Sum of the even numbers among n read from stdin, as students write it.
export const PYTHON = `# read numbers and print the sum of the even ones
def main():
    n = int(input())
    values = list(map(int, input().split()))
    total = 0
    for v in values:
        if v % 2 == 0:
            total += v
    print(total)

main()
`;
// The same program with every name changed, comments reworded, blank lines and spacing moved.
export const PYTHON_COPY = `def solve():
    # how many
    count = int(input())

    nums = list(map(int, input().split()))  # the numbers
    acc = 0
    for x in nums:
        if x % 2 == 0:
            acc += x
    print(acc)


solve()
`;
export const PYTHON_OWN = `import sys
data = sys.stdin.read().split()
n = int(data[0])
print(sum(int(t) for t in data[1:n + 1] if int(t) % 2 == 0))
`;

export const C = `#include <stdio.h>

int main(void) {
    int n;
    scanf("%d", &n);
    long long total = 0;
    for (int i = 0; i < n; i++) {
        int x;
        scanf("%d", &x);
        if (x % 2 == 0) total += x;
    }
    printf("%lld\\n", total);
    return 0;
}
`;
export const C_COPY = `#include <stdio.h>
int main(void)
{
  int count; scanf("%d", &count);
  long long sum = 0;   /* running sum */
  for (int k = 0; k < count; k++)
  {
    int value;
    scanf("%d", &value);
    if (value % 2 == 0) sum += value;
  }
  printf("%lld\\n", sum);
  return 0;
}
`;
// Written independently, the same idea: shares the input idiom and little else.
export const C_OWN = `#include <stdio.h>
int main(void) {
    int n, x;
    long long total = 0;
    scanf("%d", &n);
    while (n--) {
        scanf("%d", &x);
        if (x % 2 == 0) {
            total += x;
        }
    }
    printf("%lld\\n", total);
    return 0;
}
`;

export const JAVA = `import java.util.Scanner;

public class Main {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        int n = in.nextInt();
        long total = 0;
        for (int i = 0; i < n; i++) {
            int x = in.nextInt();
            if (x % 2 == 0) total += x;
        }
        System.out.println(total);
    }
}
`;
export const JAVA_COPY = `import java.util.Scanner;
/** My own solution. */
public class Main
{
  public static void main(String[] argv)
  {
    Scanner sc = new Scanner(System.in);
    int count = sc.nextInt();   // how many numbers
    long acc = 0;
    for (int k = 0; k < count; k++)
    {
      int value = sc.nextInt();
      if (value % 2 == 0) acc += value;
    }
    System.out.println(acc);
  }
}
`;
export const JAVA_OWN = `import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer st = new StringTokenizer(reader.readLine());
        int n = Integer.parseInt(st.nextToken());
        long sum = 0;
        st = new StringTokenizer(reader.readLine());
        while (st.hasMoreTokens()) {
            long v = Long.parseLong(st.nextToken());
            sum += (v & 1) == 0 ? v : 0;
        }
        System.out.println(sum);
    }
}
`;

export const JAVASCRIPT = `const lines = require('fs').readFileSync(0, 'utf8').split('\\n');
export const n = Number(lines[0]);
let total = 0;
for (const item of lines[1].split(' ').slice(0, n)) {
  const value = Number(item);
  if (value % 2 === 0) total += value;
}
console.log(total);
`;
export const JAVASCRIPT_COPY = `// sums the evens
export const rows = require("fs").readFileSync(0, "utf8").split("\\n");
export const count = Number(rows[0]);
let sum = 0;
for (const w of rows[1].split(" ").slice(0, count)) {
  const v = Number(w); if (v % 2 === 0) sum += v;
}
console.log(sum);
`;
export const JAVASCRIPT_OWN = `let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const [, ...rest] = input.trim().split(/\\s+/).map(Number);
  console.log(rest.filter((x) => x % 2 === 0).reduce((a, b) => a + b, 0));
});
`;

export const CPP = `#include <iostream>
#include <vector>
using namespace std;

int main() {
    int n;
    cin >> n;
    vector<int> values(n);
    for (auto &v : values) cin >> v;
    long long total = 0;
    for (int v : values)
        if (v % 2 == 0) total += v;
    cout << total << endl;
    return 0;
}
`;
export const CPP_COPY = `#include <iostream>
#include <vector>
using namespace std;
// solution
int main()
{
  int size; cin >> size;
  vector<int> nums(size);
  for (auto &x : nums) cin >> x;
  long long result = 0;
  for (int x : nums) if (x % 2 == 0) result += x;
  cout << result << endl;
  return 0;
}
`;
export const CPP_OWN = `#include <bits/stdc++.h>
int main() {
    std::ios::sync_with_stdio(false);
    long long n, s = 0;
    std::cin >> n;
    while (n-- > 0) {
        long long a;
        std::cin >> a;
        s += (a % 2 == 0) ? a : 0;
    }
    std::printf("%lld\\n", s);
}
`;
