// Go (gccgo): goroutines feeding a channel pipeline, a WaitGroup, a mutex-protected map, select with a timeout.
package main

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

func producer(n int, out chan<- int) {
	for i := 1; i <= n; i++ {
		out <- i
	}
	close(out)
}

func square(in <-chan int, out chan<- int, wg *sync.WaitGroup) {
	defer wg.Done()
	for v := range in {
		out <- v * v
	}
}

func main() {
	src := make(chan int)
	sq := make(chan int, 16)
	var wg sync.WaitGroup
	go producer(10000, src)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go square(src, sq, &wg)
	}
	go func() { wg.Wait(); close(sq) }()
	total := 0
	for v := range sq {
		total += v
	}
	fmt.Println("sum of squares:", total)

	var mu sync.Mutex
	counts := map[string]int{}
	var wg2 sync.WaitGroup
	words := []string{"alpha", "beta", "gamma", "beta", "alpha", "alpha"}
	for i := 0; i < 30; i++ {
		wg2.Add(1)
		go func(i int) {
			defer wg2.Done()
			mu.Lock()
			counts[words[i%len(words)]]++
			mu.Unlock()
		}(i)
	}
	wg2.Wait()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s=%d ", k, counts[k])
	}
	fmt.Println()
	done := make(chan bool)
	go func() { time.Sleep(20 * time.Millisecond); done <- true }()
	select {
	case <-done:
		fmt.Println("done before timeout")
	case <-time.After(5 * time.Second):
		fmt.Println("timeout")
	}
}
