// C++: exceptions (thrown across frames, rethrown, std:: exceptions), iostreams, containers, algorithms, strings,
// RTTI, static constructors, std::thread with a mutex.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
};
struct Sq : Shape {
  double s;
  explicit Sq(double v) : s(v) {}
  double area() const override { return s * s; }
};
struct Circle : Shape {
  double r;
  explicit Circle(double v) : r(v) {}
  double area() const override { return 3.14159 * r * r; }
};

static int depth(int n) {
  if (n == 0) throw std::runtime_error("bottom reached");
  return depth(n - 1) + 1;
}

struct Global {
  Global() { std::cout << "static constructor ran" << std::endl; }
} global;

int main() {
  try {
    depth(50);
  } catch (const std::exception &e) {
    std::cout << "caught: " << e.what() << std::endl;
  }
  try {
    try {
      std::vector<int> v(3);
      v.at(10) = 1;
    } catch (const std::out_of_range &) {
      std::cout << "out_of_range, rethrowing" << std::endl;
      throw;
    }
  } catch (const std::logic_error &e) {
    std::cout << "rethrown as logic_error" << std::endl;
  }
  try {
    throw 42;
  } catch (int v) {
    std::cout << "caught int " << v << std::endl;
  }
  std::vector<std::unique_ptr<Shape>> shapes;
  for (int i = 1; i <= 5; i++) {
    if (i % 2) shapes.push_back(std::make_unique<Sq>(i));
    else shapes.push_back(std::make_unique<Circle>(i));
  }
  double total = 0;
  for (auto &s : shapes) total += s->area();
  std::cout.precision(6);
  std::cout << std::fixed << "total area " << total << " first is Sq: " << (dynamic_cast<Sq *>(shapes[0].get()) != nullptr)
            << std::endl;
  std::map<std::string, int> freq;
  std::istringstream in("the quick brown fox jumps over the lazy dog the end");
  std::string w;
  while (in >> w) freq[w]++;
  for (auto &[k, v] : freq) std::cout << k << "=" << v << " ";
  std::cout << std::endl;
  std::vector<int> nums(1000);
  std::iota(nums.begin(), nums.end(), 1);
  std::reverse(nums.begin(), nums.end());
  std::sort(nums.begin(), nums.end());
  std::cout << "sum " << std::accumulate(nums.begin(), nums.end(), 0L) << std::endl;
  std::mutex mu;
  long counter = 0;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++)
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; i++) {
        std::lock_guard<std::mutex> g(mu);
        counter++;
      }
    });
  for (auto &t : ts) t.join();
  std::cout << "threads counted " << counter << std::endl;
  std::cerr << "stderr line" << std::endl;
  return 0;
}
