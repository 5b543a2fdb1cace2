/* Standard input piped in: reads lines with fgets, counts bytes/words/lines, echoes them upper-cased, and checks
 * end of input. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  char line[1024];
  long lines = 0, words = 0, bytes = 0;
  while (fgets(line, sizeof line, stdin)) {
    lines++;
    bytes += strlen(line);
    int in = 0;
    for (char *p = line; *p; p++) {
      if (isspace((unsigned char)*p)) in = 0;
      else if (!in) in = 1, words++;
      *p = toupper((unsigned char)*p);
    }
    if (lines <= 5 || lines % 500 == 0) fputs(line, stdout);
  }
  printf("%ld lines, %ld words, %ld bytes, eof %d\n", lines, words, bytes, feof(stdin));
  return 0;
}
